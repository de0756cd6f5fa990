//! Blind transfer (RFC 5589 §6) in the transferor's and the transferee's roles; the target's
//! role is an ordinary incoming call that carries `Referred-By` (RFC 3892). The implicit
//! `refer` subscription each role holds (RFC 3515, RFC 4488, RFC 6665, RFC 7647) is the
//! [`crate::subscription`] layer's: this module decides what to report and sends it.
//!
//! Transferor (A): [`Endpoint::transfer`] holds the call (re-INVITE `a=sendonly`, unless told
//! not to), sends REFER with one `Refer-To` and a `Referred-By`, answers every NOTIFY of the
//! subscription 200, reports each sipfrag status line as [`Event::TransferProgress`] and ends
//! with exactly one [`Event::TransferOutcome`]. On success it BYEs the call (RFC 5589 §6, when
//! [`ByeBy::Transferor`]); on failure it resumes the call if it held it. While it waits it
//! refreshes the subscription halfway through each `expires` (RFC 6665 §4.1.2.2).
//!
//! Transferee (B): an in-dialog REFER becomes [`Event::IncomingTransfer`] before anything is
//! answered; [`Endpoint::accept_transfer`] answers 202, sends NOTIFY `100 Trying`, calls the
//! target with `Referred-By`, NOTIFYs each provisional and the final status
//! (`Subscription-State: terminated;reason=noresource`), and on success ends the original
//! call if the transferor has not within [`crate::Config::transfer_bye_grace`]. A subscription
//! not refreshed within [`crate::Config::refer_expires`] ends with `reason=timeout` (RFC 6665
//! §4.2.1.2); like a NOTIFY answered 481, that ends only the subscription (RFC 5057), and the
//! call to the target carries on.

use super::{CallId, CallOptions, CallState, EndReason, Endpoint, Event, Timer};
use crate::dialog::Dialog;
use crate::error::Error;
use crate::msg::builder::{reason_phrase, sipfrag_status};
use crate::msg::{Header, Message, Method, NameAddr, Params, ReferSub, Uri};
use crate::subscription::{self, After, Notifier, Notify, Subscriber};
use crate::text::SipStr;
use crate::time::Instant;
use crate::transaction::TxId;
use alloc::boxed::Box;
use alloc::vec::Vec;
use bytes::Bytes;

/// A transfer, as the endpoint numbers them (either role).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransferId(pub(crate) u64);

impl TransferId {
    /// The number (unique for the endpoint's lifetime).
    pub fn get(self) -> u64 {
        self.0
    }
}

/// Who ends the original call after a successful transfer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ByeBy {
    /// The transferor sends BYE once the final NOTIFY reports success (RFC 5589 §6).
    #[default]
    Transferor,
    /// The transferor leaves it to the transferee (which BYEs after its grace period).
    Transferee,
}

/// Options of a blind transfer.
#[derive(Clone, Debug)]
pub struct BlindOptions {
    /// Hold the call (re-INVITE `a=sendonly`) before the REFER. Default: yes.
    pub hold: bool,
    /// `Referred-By`; default: our identity in the dialog.
    pub referred_by: Option<NameAddr<SipStr>>,
    /// Ask for no subscription (`Refer-Sub: false`, RFC 4488) — sent only when the peer
    /// listed `norefersub` in `Supported`. Default: no.
    pub no_subscription: bool,
    /// Who ends the original call on success.
    pub bye: ByeBy,
}

impl Default for BlindOptions {
    fn default() -> Self {
        BlindOptions {
            hold: true,
            referred_by: None,
            no_subscription: false,
            bye: ByeBy::Transferor,
        }
    }
}

/// Options of an attended transfer.
#[derive(Clone, Debug)]
pub struct AttendedOptions {
    /// Hold the call being transferred (re-INVITE `a=sendonly`) before the REFER. Default:
    /// yes.
    pub hold: bool,
    /// Hold the consultation call too (RFC 5589 §7.1: the transferor usually has it on hold
    /// while it tells the transferee). Default: no.
    pub hold_consultation: bool,
    /// `Referred-By`; default: our identity in the transferred dialog.
    pub referred_by: Option<NameAddr<SipStr>>,
    /// Ask for no subscription (`Refer-Sub: false`, RFC 4488), sent only when the peer
    /// listed `norefersub`. Default: no.
    pub no_subscription: bool,
    /// Who ends the transferred call on success (the target ends the consultation call:
    /// it is the dialog the new call replaces, RFC 3891 §3).
    pub bye: ByeBy,
}

impl Default for AttendedOptions {
    fn default() -> Self {
        AttendedOptions {
            hold: true,
            hold_consultation: false,
            referred_by: None,
            no_subscription: false,
            bye: ByeBy::Transferor,
        }
    }
}

/// What to transfer the call to.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Transfer {
    /// Blind transfer (RFC 5589 §6) to `target`.
    Blind {
        /// The transfer target (becomes the `Refer-To`).
        target: Uri<SipStr>,
        /// Options.
        options: BlindOptions,
    },
    /// Attended transfer (RFC 5589 §7): the transferee is sent to the peer of our call
    /// `consultation`, with `Replaces` naming that dialog as the peer sees it, so that its
    /// call replaces ours (RFC 3891).
    Attended {
        /// Our call with the transfer target.
        consultation: CallId,
        /// Options.
        options: AttendedOptions,
    },
}

/// How a transfer ended (reported once, by [`Event::TransferOutcome`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferOutcome {
    /// The final NOTIFY reported a 2xx from the target.
    Succeeded,
    /// The final NOTIFY reported this failure (or the subscription ended without a final
    /// status: then the last provisional status, 0 when there was none).
    Failed(u16),
    /// The REFER was answered with this failure.
    Rejected(u16),
    /// No final NOTIFY within [`crate::Config::transfer_timeout`] (or the REFER got no
    /// answer).
    TimedOut,
    /// The transferee accepted with `Refer-Sub: false` (RFC 4488): no progress will come.
    AcceptedWithoutReport,
    /// The application gave up ([`Endpoint::cancel_transfer`]).
    Cancelled,
    /// The original call ended before the REFER went out (or, attended, the consultation
    /// call ended before the REFER could name it). Once the REFER is out, the call may end
    /// and the transfer goes on: the subscription keeps the dialog (RFC 5057 §5.1).
    CallEnded,
}

#[derive(Clone, Debug)]
pub(crate) struct Transferor {
    call: CallId,
    /// What the REFER is to carry, until it goes (boxed: two name-addrs, and the REFER
    /// itself, held by its transaction, is what a retry after a challenge resends).
    parts: Option<Box<ReferParts>>,
    /// The consultation call of an attended transfer (the Refer-To is built from its dialog
    /// when the REFER goes).
    consultation: Option<CallId>,
    no_sub: bool,
    bye: ByeBy,
    held_by_us: bool,
    waiting_hold: bool,
    refer_tx: Option<TxId>,
    /// Our SUBSCRIBE refreshing the subscription, while it is in flight.
    refresh_tx: Option<TxId>,
    /// The subscription the REFER creates.
    sub: Subscriber,
    done: bool,
}

/// What handling a REFER reads from it, taken out of the request where its transaction
/// holds it (no copy of the whole request).
pub(super) struct ReadRefer {
    /// The one `Refer-To` (RFC 3515 §2.4.1).
    target: NameAddr<SipStr>,
    /// The `Replaces` its URI carries (RFC 3891 §3, attended transfer).
    replaces: Option<crate::msg::Replaces<SipStr>>,
    /// The REFER's CSeq number (the `id` of its subscription's `Event`, RFC 3515 §2.4.6).
    seq: u32,
    /// Its `Refer-Sub` value (RFC 4488 §4), if it has one.
    refer_sub: Option<bool>,
    referred_by: Option<NameAddr<SipStr>>,
}

impl ReadRefer {
    /// Reads `request`; the response code that refuses it instead: 400 without exactly one
    /// `Refer-To` (RFC 3515 §2.4.1) or with an embedded `Replaces` that does not parse, 416
    /// for a `Refer-To` URI other than SIP's.
    pub(super) fn of(request: &Message) -> Result<ReadRefer, u16> {
        let mut tos = request.refer_tos();
        let (Some(to), None) = (tos.next(), tos.next()) else {
            return Err(400);
        };
        if !matches!(to.uri, Uri::Sip(_)) {
            return Err(416);
        }
        let replaces = to.embedded_replaces().map_err(|_| 400u16)?;
        Ok(ReadRefer {
            target: to.clone(),
            replaces,
            seq: request.cseq().map_or(0, |c| c.seq),
            refer_sub: request.refer_sub().map(|r| r.value),
            referred_by: request.referred_by().cloned(),
        })
    }
}

/// The Refer-To of a blind transfer and the Referred-By asked for.
#[derive(Clone, Debug)]
pub(crate) struct ReferParts {
    target: Option<NameAddr<SipStr>>,
    referred_by: Option<NameAddr<SipStr>>,
}

#[derive(Clone, Debug)]
pub(crate) struct Transferee {
    call: CallId,
    /// The REFER's server transaction until it is answered (the REFER is read from it).
    tx: Option<TxId>,
    /// The subscription we serve (inactive with `Refer-Sub: false`).
    sub: Notifier,
    /// A REFER outside any dialog (RFC 4538) created a dialog of its own: the subscription's
    /// NOTIFYs go in it, not in the call's.
    sub_dialog: Option<alloc::boxed::Box<crate::dialog::Dialog>>,
    new_call: Option<CallId>,
    reported: bool,
    /// The call to the target was answered.
    succeeded: bool,
}

#[derive(Clone, Debug)]
pub(crate) enum Xfer {
    Transferor(Transferor),
    Transferee(Transferee),
}

impl Xfer {
    fn call(&self) -> CallId {
        match self {
            Xfer::Transferor(t) => t.call,
            Xfer::Transferee(t) => t.call,
        }
    }
}

impl Endpoint {
    /// The transfers (either role) of `call`, by key range.
    fn xfers_of(&self, call: CallId) -> impl Iterator<Item = TransferId> + '_ {
        self.call_xfers
            .range((call, TransferId(0))..=(call, TransferId(u64::MAX)))
            .map(|&(_, t)| t)
    }

    // ----- transferor -----

    /// Transfers `call`: blind (RFC 5589 §6) to a URI, or attended (§7) to the peer of a
    /// consultation call. The call is held first (unless the options say not to), then the
    /// REFER goes. Progress comes as [`Event::TransferProgress`], the end as one
    /// [`Event::TransferOutcome`].
    ///
    /// Attended: the `Refer-To` is the consultation peer's remote target (its Contact, a
    /// GRUU if it gave one) with `?Replaces=<Call-ID>;to-tag=<its tag>;from-tag=<our tag>`,
    /// the consultation dialog as the target sees it (RFC 3891 §3), whichever side placed
    /// that call. While the consultation is still ringing: if the target called us, its early
    /// dialog is named with `early-only` (the target replaces it and cancels its INVITE); if we
    /// called it, our INVITE is cancelled and the transferee is referred to whom we called,
    /// without `Replaces` (the target could not replace a dialog it did not initiate). Refused
    /// before anything is sent when the consultation is the call itself
    /// ([`Error::InvalidTransfer`]), is not a live call ([`Error::UnknownCall`]) or has no
    /// dialog with the target yet ([`Error::InvalidState`]).
    pub fn transfer(
        &mut self,
        now: Instant,
        call: CallId,
        transfer: Transfer,
    ) -> Result<TransferId, Error> {
        self.tick(now);
        let (target, consultation, hold, hold_consultation, referred_by, no_sub, bye) =
            match transfer {
                Transfer::Blind { target, options } => (
                    Some(NameAddr::new(target)),
                    None,
                    options.hold,
                    false,
                    options.referred_by,
                    options.no_subscription,
                    options.bye,
                ),
                Transfer::Attended {
                    consultation,
                    options,
                } => (
                    None,
                    Some(consultation),
                    options.hold,
                    options.hold_consultation,
                    options.referred_by,
                    options.no_subscription,
                    options.bye,
                ),
            };
        let c = self.calls.get(&call).ok_or(Error::UnknownCall)?;
        if !c.confirmed() {
            return Err(Error::InvalidState);
        }
        let hold = hold && !c.is_held();
        let no_sub = no_sub && c.peer_norefersub();
        let (mut target, mut consultation, mut cancel) = (target, consultation, None);
        if let Some(k) = consultation {
            if k == call {
                return Err(Error::InvalidTransfer(
                    "the consultation call is the call being transferred",
                ));
            }
            let kc = self.calls.get(&k).ok_or(Error::UnknownCall)?;
            if kc.is_outgoing_pending() {
                // Our consultation INVITE is still ringing: the target could not replace a
                // dialog it did not initiate (RFC 3891 §3: 481), so cancel it and refer the
                // transferee to whom we called (RFC 5589 §7's variant for a ringing target).
                target = Some(NameAddr::new(
                    kc.invite_uri().cloned().ok_or(Error::InvalidState)?,
                ));
                cancel = consultation.take();
            } else if self.dialog(k).is_none_or(|d| d.id.remote_tag.is_empty()) {
                return Err(Error::InvalidState);
            }
        }
        let id = TransferId(self.next_transfer);
        self.next_transfer += 1;
        self.transfers.insert(
            id,
            Box::new(Xfer::Transferor(Transferor {
                call,
                parts: Some(Box::new(ReferParts {
                    target,
                    referred_by,
                })),
                consultation,
                no_sub,
                bye,
                held_by_us: hold,
                waiting_hold: hold,
                refer_tx: None,
                refresh_tx: None,
                sub: Subscriber::new(),
                done: false,
            })),
        );
        self.call_xfers.insert((call, id));
        if let Some(k) = cancel {
            let _ = self.hangup(now, k);
        }
        if let Some(k) = consultation.filter(|_| hold_consultation) {
            let confirmed = self
                .calls
                .get(&k)
                .is_some_and(|c| c.confirmed() && !c.is_held());
            if confirmed {
                // The consultation's hold runs beside the REFER; its result does not gate it.
                let _ = self.hold(now, k);
            }
        }
        if hold {
            if let Err(e) = self.hold(now, call) {
                self.forget_transfer(id);
                return Err(e);
            }
        } else {
            self.send_refer(id);
        }
        if self.transfers.contains_key(&id) {
            let at = self.now + self.config.transfer_timeout;
            self.arm(call, Timer::Transfer(id), at);
        }
        self.flush();
        Ok(id)
    }

    /// The `Refer-To` of an attended transfer (RFC 5589 §7, RFC 3891 §3): the consultation
    /// peer's remote target, with the consultation dialog as that peer sees it — its tag is
    /// the to-tag, ours the from-tag. A consultation still ringing here (the peer called us
    /// and we have not answered) is an early dialog the peer initiated, which it may replace:
    /// `early-only` then, so that it is replaced only while still early (RFC 3891 §7.1).
    fn attended_refer_to(&self, consultation: CallId) -> Option<NameAddr<SipStr>> {
        let d = self.dialog(consultation)?;
        let early_only = d.state == crate::dialog::DialogState::Early;
        let Uri::Sip(mut target) = d.remote_target.clone() else {
            return None;
        };
        target.headers = Default::default();
        let replaces =
            crate::msg::Replaces::new(&d.id.call_id, &d.id.remote_tag, &d.id.local_tag, early_only);
        Some(crate::msg::builder::refer_to_with_replaces(
            &target, &replaces,
        ))
    }

    /// Gives up a transfer we started: unsubscribes (SUBSCRIBE `Event: refer;id=…`,
    /// `Expires: 0`, RFC 6665 §4.1.2.3) and reports [`TransferOutcome::Cancelled`]; the
    /// original call stays as it is.
    pub fn cancel_transfer(&mut self, now: Instant, transfer: TransferId) -> Result<(), Error> {
        self.tick(now);
        let Some(Xfer::Transferor(t)) = self.transfers.get(&transfer).map(|x| &**x) else {
            return Err(Error::UnknownTransfer);
        };
        if t.done {
            return Err(Error::InvalidState);
        }
        self.unsubscribe(transfer);
        self.transfer_outcome(transfer, TransferOutcome::Cancelled);
        self.flush();
        Ok(())
    }

    /// Unsubscribes (RFC 6665 §4.1.2.3), when the REFER went out; the answer is not awaited.
    fn unsubscribe(&mut self, transfer: TransferId) {
        if let Some(tx) = self.refer_subscribe(transfer, 0) {
            self.quiet.insert(tx, None);
        }
    }

    /// Sends SUBSCRIBE `Event: refer;id=<REFER CSeq>`, `Expires: expires` in the transfer's
    /// dialog (RFC 3515 §2.4.6: the subscription is named by the REFER's CSeq).
    fn refer_subscribe(&mut self, transfer: TransferId, expires: u32) -> Option<TxId> {
        let Some(Xfer::Transferor(t)) = self.transfers.get(&transfer).map(|x| &**x) else {
            return None;
        };
        let call = t.call;
        let fields = t.sub.subscribe_headers(expires)?;
        let contact = self.contact_for(call);
        self.call_dialog(call)?;
        if !self.make_room() {
            return None;
        }
        let d = super::calls::dialog_of(&mut self.calls, &mut self.lingering, call)?;
        let r = crate::msg::emit::InDialog {
            method: Method::Subscribe,
            contact: contact.as_ref(),
            fields: &fields,
            body: &[],
        };
        let local = self.config.local_addr;
        let (_, dest, req) = super::in_dialog(d, &r, local, &mut self.ids, &mut self.layer);
        Some(self.send_outgoing(dest, req))
    }

    /// Our hold before a transfer completed (`ok`: it got a 2xx): the REFER goes now.
    pub(super) fn after_hold(&mut self, call: CallId, ok: bool) {
        let waiting: Vec<TransferId> = self
            .xfers_of(call)
            .filter(
                |t| matches!(self.transfers.get(t).map(|x| &**x), Some(Xfer::Transferor(x)) if x.waiting_hold),
            )
            .collect();
        for t in waiting {
            if let Some(Xfer::Transferor(x)) = self.transfers.get_mut(&t).map(|x| &mut **x) {
                x.waiting_hold = false;
                x.held_by_us = ok;
            }
            self.send_refer(t);
        }
    }

    fn send_refer(&mut self, transfer: TransferId) {
        let Some(Xfer::Transferor(t)) = self.transfers.get(&transfer).map(|x| &**x) else {
            return;
        };
        let call = t.call;
        let no_sub = t.no_sub;
        let referred_by = t.parts.as_ref().and_then(|p| p.referred_by.clone());
        let target = match (
            t.parts.as_ref().and_then(|p| p.target.as_ref()),
            t.consultation,
        ) {
            (Some(target), _) => target.clone(),
            (None, Some(k)) => match self.attended_refer_to(k) {
                Some(target) => target,
                None => {
                    // The consultation call ended (or lost its dialog) before the REFER.
                    self.transfer_outcome(transfer, TransferOutcome::CallEnded);
                    return;
                }
            },
            (None, None) => return,
        };
        let contact = self.contact_for(call);
        if self.call_dialog(call).is_none() {
            return;
        }
        if !self.make_room() {
            self.transfer_outcome(transfer, TransferOutcome::Rejected(503));
            return;
        }
        let Some(d) = super::calls::dialog_of(&mut self.calls, &mut self.lingering, call) else {
            return;
        };
        // RFC 3892: who asked for the transfer.
        let by = referred_by.unwrap_or_else(|| {
            let mut me = d.local.clone();
            me.params = Params::default();
            me
        });
        let mut fields: smallvec::SmallVec<[Header<SipStr>; 3]> = smallvec::SmallVec::new();
        fields.push(Header::ReferTo(target));
        fields.push(Header::ReferredBy(by));
        if no_sub {
            fields.push(Header::ReferSub(ReferSub {
                value: false,
                params: Params::default(),
            }));
        }
        let r = crate::msg::emit::InDialog {
            method: Method::Refer,
            contact: contact.as_ref(),
            fields: &fields,
            body: &[],
        };
        let local = self.config.local_addr;
        let (seq, dest, req) = super::in_dialog(d, &r, local, &mut self.ids, &mut self.layer);
        let tx = self.send_outgoing(dest, req);
        self.tx_transfers.insert(tx, transfer);
        if let Some(Xfer::Transferor(t)) = self.transfers.get_mut(&transfer).map(|x| &mut **x) {
            t.refer_tx = Some(tx);
            t.parts = None;
            // RFC 3515 §2.4.6: only the dialog's first REFER may get NOTIFYs without `id` —
            // the first to go out.
            let first = self
                .calls
                .get_mut(&call)
                .is_none_or(|c| !core::mem::replace(&mut c.refer_sent, true));
            t.sub.refer_sent(seq, first);
        }
    }

    /// A final response to a REFER or NOTIFY of a transfer (`None`: no answer, Timer F).
    pub(super) fn transfer_response(&mut self, tx: TxId, code: Option<u16>, refer_sub: bool) {
        let Some(&transfer) = self.tx_transfers.get(&tx) else {
            return;
        };
        if code.is_some_and(|c| c < 200) {
            return;
        }
        self.tx_transfers.remove(&tx);
        match self.transfers.get_mut(&transfer).map(|x| &mut **x) {
            Some(Xfer::Transferor(t)) if t.refer_tx == Some(tx) => {
                t.refer_tx = None;
                match code {
                    Some(200..=299) => {
                        t.sub.accept();
                        // RFC 4488 §4: a 2xx with Refer-Sub: false means no NOTIFY comes.
                        if !refer_sub {
                            self.transfer_outcome(transfer, TransferOutcome::AcceptedWithoutReport);
                        }
                    }
                    Some(c) => self.transfer_outcome(transfer, TransferOutcome::Rejected(c)),
                    None => self.transfer_outcome(transfer, TransferOutcome::TimedOut),
                }
            }
            Some(Xfer::Transferor(t)) if t.refresh_tx == Some(tx) => {
                t.refresh_tx = None;
                // The subscription is gone — and with it the final report.
                if code.is_some_and(Subscriber::refresh_ends) {
                    let last = t.sub.last_status();
                    self.transfer_outcome(transfer, TransferOutcome::Failed(last));
                }
            }
            Some(Xfer::Transferee(t)) if t.sub.in_flight() == Some(tx) => {
                // RFC 5057: a 481 (or no answer) to a NOTIFY ends only the subscription.
                match t.sub.on_response(self.now, code) {
                    After::Send(n) => self.send_notify(transfer, n),
                    After::End => self.end_subscription(transfer),
                    After::Nothing => {}
                }
            }
            _ => {}
        }
    }

    /// A NOTIFY in a call's dialog (RFC 6665 §4.1.3, RFC 3515 §2.4.4).
    /// Read from server transaction `tx`'s request (no copy of it is made).
    pub(super) fn incoming_notify(&mut self, call: CallId, tx: TxId) {
        let Some(request) = self.layer.request(tx) else {
            // Gone, or answered already (a transaction gives up its request only once it
            // has sent its final response): nothing left to do. A new one always holds it.
            return;
        };
        // What the NOTIFY says, read while it is borrowed; the checks keep the RFC's order.
        let read = match (subscription::target(request), request.subscription_state()) {
            (_, None) => Err(400),
            (Err(code), Some(_)) => Err(code),
            (Ok(id), Some(state)) => Ok((id, Subscriber::read(state, &request.body))),
        };
        let (id, progress) = match read {
            Ok(r) => r,
            Err(code) => {
                self.answer_with(tx, code, Vec::new());
                return;
            }
        };
        let found = self.xfers_of(call).find(
            |t| matches!(self.transfers.get(t).map(|x| &**x), Some(Xfer::Transferor(x)) if x.sub.matches(id)),
        );
        let Some(transfer) = found else {
            self.answer_with(tx, 481, Vec::new());
            return;
        };
        let progress = match progress {
            Ok(p) => p,
            Err(code) => {
                self.answer_with(tx, code, Vec::new());
                return;
            }
        };
        self.answer_with(tx, 200, Vec::new());
        let Some(Xfer::Transferor(t)) = self.transfers.get_mut(&transfer).map(|x| &mut **x) else {
            return;
        };
        if t.done {
            if progress.terminated {
                self.forget_transfer(transfer);
            }
            return;
        }
        let status = progress.status;
        if !t.sub.record(status) {
            self.events.push_back(Event::TransferProgress {
                transfer,
                status,
                status_line: progress.status_line,
            });
        }
        let outcome = match status {
            200..=299 => Some(TransferOutcome::Succeeded),
            300.. => Some(TransferOutcome::Failed(status)),
            _ if progress.terminated => Some(TransferOutcome::Failed(status)),
            _ => None,
        };
        if let Some(o) = outcome {
            self.transfer_outcome(transfer, o);
        } else if let Some(after) = progress.refresh_after {
            self.arm(call, Timer::ReferRefresh(transfer), self.now + after);
        }
        if progress.terminated {
            self.forget_transfer(transfer);
        }
    }

    /// Refreshes the refer subscription of a transfer still waiting for its outcome:
    /// SUBSCRIBE `Event: refer;id=<REFER CSeq>`, `Expires:` [`crate::Config::refer_expires`]
    /// (RFC 3515 §2.4.6, RFC 6665 §4.1.2.2).
    pub(super) fn refresh_refer(&mut self, transfer: TransferId) {
        let Some(Xfer::Transferor(t)) = self.transfers.get(&transfer).map(|x| &**x) else {
            return;
        };
        if t.done || t.refresh_tx.is_some() || t.refer_tx.is_some() {
            return;
        }
        if let Some(tx) = self.refer_subscribe(transfer, self.config.refer_expires) {
            self.tx_transfers.insert(tx, transfer);
            if let Some(Xfer::Transferor(t)) = self.transfers.get_mut(&transfer).map(|x| &mut **x) {
                t.refresh_tx = Some(tx);
            }
        }
        self.flush();
    }

    /// Reports the outcome once, and does what it implies for the original call.
    fn transfer_outcome(&mut self, transfer: TransferId, outcome: TransferOutcome) {
        let (call, role_a) = match self.transfers.get_mut(&transfer).map(|x| &mut **x) {
            Some(Xfer::Transferor(t)) if !t.done => {
                t.done = true;
                (t.call, Some((t.held_by_us, t.bye, t.consultation)))
            }
            Some(Xfer::Transferee(t)) if !t.reported => {
                t.reported = true;
                (t.call, None)
            }
            _ => return,
        };
        self.disarm(call, Timer::Transfer(transfer));
        self.disarm(call, Timer::ReferRefresh(transfer));
        self.events
            .push_back(Event::TransferOutcome { transfer, outcome });
        let Some((held, bye, consultation)) = role_a else {
            return;
        };
        if let (TransferOutcome::Succeeded, Some(k)) = (outcome, consultation) {
            // RFC 3891 §3: the target ends the consultation call it replaced (BYE), once its
            // own 2xx on it is ACKed (§15). Should it never do so, we do, after 64·T1 (the
            // longest a lost ACK can hold its BYE back).
            let at = self.now + self.config.timers.t1x64();
            self.arm(k, Timer::ReplacedGrace, at);
        }
        // Keep the record while the subscription may still send NOTIFYs (the REFER was
        // accepted and no terminating NOTIFY came yet — after an unsubscribe, the final one
        // is still answered 200, RFC 6665 §4.1.2.3), for at most 64·T1.
        let accepted = matches!(
            self.transfers.get(&transfer).map(|x| &**x),
            Some(Xfer::Transferor(t)) if t.sub.is_accepted()
        );
        let linger = accepted
            && matches!(
                outcome,
                TransferOutcome::Succeeded
                    | TransferOutcome::Failed(_)
                    | TransferOutcome::TimedOut
                    | TransferOutcome::Cancelled
            );
        if linger && outcome == TransferOutcome::TimedOut {
            // We stop listening: say so, or the transferee's NOTIFYs would go on (and an
            // id-less one could be taken for a later REFER's).
            self.unsubscribe(transfer);
        }
        if linger {
            let at = self.now + self.config.timers.t1x64();
            self.arm(call, Timer::Transfer(transfer), at);
        } else {
            self.forget_transfer(transfer);
        }
        match outcome {
            TransferOutcome::Succeeded if bye == ByeBy::Transferor => {
                let _ = self.hangup(self.now, call);
            }
            TransferOutcome::Succeeded
            | TransferOutcome::AcceptedWithoutReport
            | TransferOutcome::Cancelled
            | TransferOutcome::CallEnded => {}
            _ if held => {
                // RFC 5589 §6: on failure the transferor takes the call back.
                let _ = self.resume(self.now, call);
            }
            _ => {}
        }
    }

    /// The transfer timer fired.
    pub(super) fn transfer_timer(&mut self, transfer: TransferId) {
        match self.transfers.get(&transfer).map(|x| &**x) {
            Some(Xfer::Transferor(t)) if !t.done => {
                self.transfer_outcome(transfer, TransferOutcome::TimedOut);
            }
            Some(Xfer::Transferee(t)) if t.sub.is_active() => {
                // Not refreshed in time: a final NOTIFY with `reason=timeout` (unless the
                // final one is in flight already; its answer ends the subscription). The
                // transfer call carries on.
                let now = self.now;
                if let Some(Xfer::Transferee(t)) =
                    self.transfers.get_mut(&transfer).map(|x| &mut **x)
                {
                    if let Some(n) = t.sub.expire(now) {
                        self.send_notify(transfer, n);
                    }
                }
            }
            Some(Xfer::Transferee(t)) => {
                // The grace period after a successful transfer: end the original call.
                let (call, succeeded) = (t.call, t.succeeded);
                self.forget_transfer(transfer);
                if succeeded {
                    let _ = self.hangup(self.now, call);
                }
            }
            _ => self.forget_transfer(transfer),
        }
    }

    /// An ended call's lingering dialog, forgotten.
    fn forget_lingering(&mut self, call: CallId) {
        if let Some(d) = self.lingering.remove(&call) {
            self.lingering_ids.remove(&d.id);
        }
    }

    /// Our BYE `tx` of `call` has ended (its transaction is over): a dialog that lingered for
    /// it alone, its subscriptions gone, goes with it.
    pub(super) fn bye_ended(&mut self, call: CallId, tx: TxId) {
        if self.lingering_byes.get(&call) == Some(&tx) {
            self.lingering_byes.remove(&call);
            if self.xfers_of(call).next().is_none() {
                self.forget_lingering(call);
            }
        }
    }

    /// The transfer whose transferor `call` (placed by us as transferee) still reports to.
    fn reports_to(&self, call: CallId) -> Option<TransferId> {
        self.calls.get(&call)?.for_transfer
    }

    /// `call` reports its progress to `transfer`'s transferor from now on, or (`None`) no more.
    fn set_reports_to(&mut self, call: CallId, transfer: Option<TransferId>) {
        if let Some(c) = self.calls.get_mut(&call) {
            c.for_transfer = transfer;
        }
    }

    fn forget_transfer(&mut self, transfer: TransferId) {
        if let Some(x) = self.transfers.remove(&transfer) {
            let call = x.call();
            self.call_xfers.remove(&(call, transfer));
            if self.xfers_of(call).next().is_none() && !self.lingering_byes.contains_key(&call) {
                // The last usage of an ended call's dialog is gone: so is the dialog — once
                // the call's BYE, if still out, has ended too (`bye_ended`): a request the
                // dialog sent after it (this usage's last NOTIFY, answered 481 once the
                // peer's subscription was over, but counted, RFC 3261 §12.2.2) has its
                // copies refused 500, and it may have to go again from the dialog, above that
                // request (`Endpoint::bye_timed_out`).
                self.forget_lingering(call);
            }
            self.disarm(call, Timer::Transfer(transfer));
            self.disarm(call, Timer::ReferRefresh(transfer));
            if let Xfer::Transferee(t) = *x {
                if let Some(d) = &t.sub_dialog {
                    self.sub_dialogs.remove(&d.id);
                }
                if let Some(nc) = t.new_call {
                    self.set_reports_to(nc, None);
                }
                if let Some(tx) = t.tx {
                    // The application never answered the REFER (the dialog ended first):
                    // every request gets a final response (RFC 3261 §8.2.6).
                    self.answer_with(tx, 487, Vec::new());
                }
            }
        }
    }

    /// The original call ended. A BYE ends the invite usage of the dialog only (RFC 5057
    /// §5.1, as in RFC 5589 §6.1, where the transferor hangs up once its REFER is accepted):
    /// a refer subscription lives on in `dialog` — ours as transferor once the REFER went
    /// out (its NOTIFYs are still answered 200 and the outcome still reported; RFC 5407
    /// §3.3's NOTIFY crossing a BYE), the one we serve as transferee once we accepted the
    /// REFER (the NOTIFYs about the call to the target go on). The dialog lingers until
    /// those subscriptions end. Other transfers end: ours not sent yet with
    /// [`TransferOutcome::CallEnded`], a REFER the application has not answered with 487.
    ///
    /// A transfer we accepted as transferee outlives the call in any case while its call to
    /// the target still reports to it, or while its subscription lives in a dialog of its
    /// own (a REFER outside the dialog, RFC 4538): without a subscription (`Refer-Sub:
    /// false`, or one a 481 ended) its outcome is still the application's to hear
    /// ([`Event::TransferOutcome`]), and the subscription's NOTIFYs still go. It is
    /// forgotten once that outcome is reported (after the BYE grace when it succeeded).
    pub(super) fn transfers_on_call_end(
        &mut self,
        call: CallId,
        dialog: Option<Box<Dialog>>,
        bye: Option<TxId>,
    ) {
        let ts: smallvec::SmallVec<[TransferId; 4]> = self.xfers_of(call).collect();
        let mut keep = false;
        for t in ts {
            let (lingers, survives) = match self.transfers.get(&t).map(|x| &**x) {
                Some(Xfer::Transferor(x)) => {
                    let l = dialog.is_some() && (x.refer_tx.is_some() || x.sub.is_accepted());
                    (l, l)
                }
                Some(Xfer::Transferee(x)) if x.tx.is_none() => {
                    let in_call_dialog = x.sub.is_live() && x.sub_dialog.is_none();
                    let own_dialog = x.sub.is_live() && x.sub_dialog.is_some();
                    let calling = x.new_call.is_some_and(|nc| self.reports_to(nc) == Some(t));
                    let l = dialog.is_some() && in_call_dialog;
                    (l, l || own_dialog || calling)
                }
                _ => (false, false),
            };
            if lingers {
                keep = true;
                continue;
            }
            if survives {
                // Without the call's dialog, a subscription that lived in it is over (and
                // its expiry with it: the call to the target decides what comes next).
                if let Some(Xfer::Transferee(x)) = self.transfers.get_mut(&t).map(|x| &mut **x) {
                    if x.sub_dialog.is_none() {
                        x.sub.end();
                        self.disarm(call, Timer::Transfer(t));
                    }
                }
                continue;
            }
            if let Some(Xfer::Transferor(x)) = self.transfers.get(&t).map(|x| &**x) {
                if !x.done {
                    self.transfer_outcome(t, TransferOutcome::CallEnded);
                }
            }
            self.forget_transfer(t);
        }
        if let (true, Some(d)) = (keep, dialog) {
            self.lingering_ids.insert(d.id.clone(), call);
            self.lingering.insert(call, d);
            if let Some(tx) = bye.filter(|tx| self.quiet.contains_key(tx)) {
                self.lingering_byes.insert(call, tx);
            }
        }
    }

    /// A request in the dialog of an ended call whose subscriptions live on: NOTIFY and
    /// SUBSCRIBE of those subscriptions; a BYE is left to the caller (`false`: the invite
    /// usage is over, RFC 5407 §3.2.1), anything else gets 481 (no such usage).
    pub(super) fn lingering_request(&mut self, call: CallId, tx: TxId, request: &Message) -> bool {
        if request.method() == Some(&Method::Bye) {
            return false;
        }
        let Some(d) = self.lingering.get_mut(&call) else {
            return false;
        };
        if let Err(code) = d.on_request(request) {
            self.answer_with(tx, code, Vec::new());
            return true;
        }
        match request.method() {
            Some(Method::Notify) => self.incoming_notify(call, tx),
            Some(Method::Subscribe) => self.incoming_subscribe(call, tx, request),
            _ => self.answer_with(tx, 481, Vec::new()),
        }
        true
    }

    // ----- transferee -----

    /// A REFER in a call's dialog (RFC 3515 §2.4.2): checked, then handed to the
    /// application as [`Event::IncomingTransfer`] (or accepted at once when
    /// [`crate::Config::auto_accept_transfers`] says so).
    pub(super) fn incoming_refer(&mut self, call: CallId, tx: TxId, refer: Result<ReadRefer, u16>) {
        // RFC 3515 §2.4.6: the first REFER's NOTIFYs may leave out `id`; those of every later
        // one received in the dialog (answered or refused) carry it.
        let first = self
            .calls
            .get_mut(&call)
            .is_none_or(|c| !core::mem::replace(&mut c.refer_seen, true));
        self.refer_for(call, tx, refer, first, None);
    }

    /// A REFER outside any dialog (RFC 3515 §2.4.2). With a `Target-Dialog` naming one of
    /// our calls (RFC 4538 §4: the sender knows that dialog, which authorizes the request), it
    /// transfers that call as an in-dialog REFER would; its subscription lives in the dialog
    /// the REFER itself creates, whose first REFER it is. A `Target-Dialog` naming no dialog
    /// of ours gets 481. Without one, the REFER is refused 403 — or handed to the application
    /// as [`Event::Request`] when [`crate::Config::refer_outside_dialog`] says so.
    ///
    /// RFC 4538 §7 gives the tags as the sender sees the dialog (`local-tag` its own,
    /// `remote-tag` ours); a header with the two swapped is matched too (liberal: random tags
    /// cannot collide).
    pub(super) fn refer_outside_dialog(&mut self, tx: TxId, source: crate::transport::Source) {
        let (Some(t), Some(request)) = (self.layer.get(tx), self.layer.request(tx)) else {
            return;
        };
        let request = request.clone();
        let peer = t.dest;
        let Some(td) = request.target_dialog() else {
            if self.config.refer_outside_dialog {
                self.events.push_back(Event::Request {
                    tx,
                    request,
                    source,
                });
            } else {
                self.answer_with(tx, 403, Vec::new());
            }
            return;
        };
        let (local, remote) = (td.local_tag().unwrap_or(""), td.remote_tag().unwrap_or(""));
        let id = |ours, theirs| crate::dialog::DialogKey::new(&td.call_id, ours, theirs);
        let call = self
            .dialog_call(id(remote, local))
            .or_else(|| self.dialog_call(id(local, remote)));
        let Some(call) = call else {
            self.answer_with(tx, 481, Vec::new());
            return;
        };
        let Some(tag) = self.tag_for(tx, 202) else {
            return;
        };
        let seq = self.ids.next_u32() & 0x7fff_ffff;
        let dialog =
            crate::dialog::Dialog::uas(&request, &tag, seq, peer).map(alloc::boxed::Box::new);
        self.refer_for(call, tx, ReadRefer::of(&request), true, dialog);
    }

    /// A REFER (in `call`'s dialog, or outside any with `sub_dialog` the dialog it creates):
    /// checked, then [`Event::IncomingTransfer`].
    fn refer_for(
        &mut self,
        call: CallId,
        tx: TxId,
        refer: Result<ReadRefer, u16>,
        first: bool,
        sub_dialog: Option<alloc::boxed::Box<crate::dialog::Dialog>>,
    ) {
        let ReadRefer {
            target,
            replaces,
            seq,
            refer_sub,
            referred_by,
        } = match refer {
            Ok(r) => r,
            Err(code) => {
                self.answer_with(tx, code, Vec::new());
                return;
            }
        };
        let live = self.xfers_of(call).count();
        if live >= self.config.max_transfers_per_dialog {
            self.answer_with(tx, 503, Vec::new());
            return;
        }
        // RFC 4488 §4: `Refer-Sub: false` is honoured only by a UA that supports
        // `norefersub`; others go on with the subscription.
        let norefersub = self
            .config
            .supported
            .iter()
            .any(|t| t.as_str().eq_ignore_ascii_case("norefersub"));
        let refer_sub = refer_sub.unwrap_or(true) || !norefersub;
        let id = TransferId(self.next_transfer);
        self.next_transfer += 1;
        self.transfers.insert(
            id,
            Box::new(Xfer::Transferee(Transferee {
                call,
                tx: Some(tx),
                sub: Notifier::new(seq, !first, refer_sub, self.now),
                sub_dialog,
                new_call: None,
                reported: false,
                succeeded: false,
            })),
        );
        self.call_xfers.insert((call, id));
        if let Some(Xfer::Transferee(t)) = self.transfers.get(&id).map(|x| &**x) {
            if let Some(d) = &t.sub_dialog {
                self.sub_dialogs.insert(d.id.clone(), id);
            }
        }
        self.events.push_back(Event::IncomingTransfer {
            transfer: id,
            call,
            target,
            referred_by,
            replaces,
            refer_sub,
        });
        if self.config.auto_accept_transfers {
            let _ = self.accept_transfer(self.now, id, None);
        }
    }

    /// Accepts an incoming transfer: 202 (with `Refer-Sub: false` when asked, RFC 4488),
    /// NOTIFY `100 Trying`, and a call to the target, from our identity in the transferred
    /// dialog, with `Referred-By` copied (RFC 3892) and, from the `Refer-To` URI's headers,
    /// only `Replaces`. `offer` is the SDP for the
    /// new call; default: this call's, direction sendrecv. Returns the new call.
    pub fn accept_transfer(
        &mut self,
        now: Instant,
        transfer: TransferId,
        offer: Option<Bytes>,
    ) -> Result<CallId, Error> {
        self.tick(now);
        let Some(Xfer::Transferee(t)) = self.transfers.get(&transfer).map(|x| &**x) else {
            return Err(Error::UnknownTransfer);
        };
        let tx = t.tx.ok_or(Error::InvalidState)?;
        let (call, subscribed) = (t.call, t.sub.is_active());
        // What the new INVITE takes from the REFER (its Refer-To and Referred-By), read
        // before the 202 lets the transaction give the REFER up.
        let refer = self.layer.request(tx).ok_or(Error::InvalidState)?;
        let to = refer.refer_to().cloned().ok_or(Error::InvalidState)?;
        let by = refer.referred_by().cloned();
        let mut extra = Vec::new();
        if !subscribed {
            extra.push(Header::ReferSub(ReferSub {
                value: false,
                params: Params::default(),
            }));
        }
        self.answer_with(tx, 202, extra);
        match self.transfers.get_mut(&transfer).map(|x| &mut **x) {
            Some(Xfer::Transferee(t)) => t.tx = None,
            _ => return Err(Error::UnknownTransfer),
        };
        let mut target = to.uri.clone();
        let replaces = to.embedded_replaces().ok().flatten();
        if let Uri::Sip(s) = &mut target {
            s.headers = Default::default();
        }
        let mut headers = Vec::new();
        if let Some(by) = by {
            headers.push(Header::ReferredBy(by));
        }
        if let Some(r) = replaces {
            headers.push(Header::Replaces(r));
        }
        let offer = offer.or_else(|| {
            self.call_local_sdp(call)
                .map(|s| crate::sdp::reoffer(&s, crate::sdp::Direction::SendRecv))
        });
        // We call the target as who we are in the transferred dialog (its local URI, without
        // the tag).
        let from = self.dialog(call).map(|d| {
            let mut me = d.local.clone();
            me.params = Params::default();
            me
        });
        let options = CallOptions {
            from,
            offer,
            headers,
            ..Default::default()
        };
        if let (true, Some(Xfer::Transferee(t))) = (
            subscribed,
            self.transfers.get_mut(&transfer).map(|x| &mut **x),
        ) {
            let lifetime = core::time::Duration::from_secs(self.config.refer_expires.into());
            let at = t.sub.start(self.now, lifetime);
            let trying = t.sub.notify(self.now, sipfrag_status(100, "Trying"), false);
            self.arm(call, Timer::Transfer(transfer), at);
            if let Some(n) = trying {
                self.send_notify(transfer, n);
            }
        }
        let new = match self.call(self.now, target, options) {
            Ok(c) => c,
            Err(e) => {
                self.transferee_final(transfer, 503);
                self.flush();
                return Err(e);
            }
        };
        if let Some(Xfer::Transferee(t)) = self.transfers.get_mut(&transfer).map(|x| &mut **x) {
            t.new_call = Some(new);
        }
        self.set_reports_to(new, Some(transfer));
        self.flush();
        Ok(new)
    }

    /// Rejects an incoming transfer with `code` (403, 603, ...; RFC 3515 §2.4.2).
    pub fn reject_transfer(
        &mut self,
        now: Instant,
        transfer: TransferId,
        code: u16,
    ) -> Result<(), Error> {
        self.tick(now);
        if !(300..=699).contains(&code) {
            return Err(Error::InvalidMessage("not a failure status"));
        }
        let Some(Xfer::Transferee(t)) = self.transfers.get(&transfer).map(|x| &**x) else {
            return Err(Error::UnknownTransfer);
        };
        let tx = t.tx.ok_or(Error::InvalidState)?;
        self.answer_with(tx, code, Vec::new());
        self.forget_transfer(transfer);
        self.flush();
        Ok(())
    }

    /// The call a transferee placed changed state: NOTIFY the transferor (RFC 3515 §2.4.4).
    pub(super) fn transferee_progress(
        &mut self,
        call: CallId,
        state: CallState,
        status: Option<u16>,
    ) {
        let Some(transfer) = self.reports_to(call) else {
            return;
        };
        match state {
            CallState::Ringing | CallState::Early => {
                let code = status.unwrap_or(180);
                self.notify(transfer, sipfrag_status(code, reason_phrase(code)), false);
            }
            CallState::Confirmed => {
                self.set_reports_to(call, None);
                let subscribed = match self.transfers.get_mut(&transfer).map(|x| &mut **x) {
                    Some(Xfer::Transferee(t)) => {
                        t.succeeded = true;
                        t.sub.is_active()
                    }
                    _ => false,
                };
                self.transferee_final(transfer, status.unwrap_or(200));
                if !subscribed {
                    self.bye_grace(transfer);
                }
            }
            CallState::Terminated { reason } => {
                self.set_reports_to(call, None);
                let code = match (reason, status) {
                    (_, Some(c)) if c >= 300 => c,
                    (EndReason::Timeout, _) => 408,
                    _ => 487,
                };
                self.transferee_final(transfer, code);
            }
            _ => {}
        }
    }

    /// The final NOTIFY (`terminated;reason=noresource`) and the transferee's outcome.
    fn transferee_final(&mut self, transfer: TransferId, code: u16) {
        let outcome = if (200..300).contains(&code) {
            TransferOutcome::Succeeded
        } else {
            TransferOutcome::Failed(code)
        };
        let subscribed = matches!(
            self.transfers.get(&transfer).map(|x| &**x),
            Some(Xfer::Transferee(t)) if t.sub.is_active()
        );
        self.transfer_outcome(transfer, outcome);
        if subscribed {
            self.notify(transfer, sipfrag_status(code, reason_phrase(code)), true);
        } else if outcome != TransferOutcome::Succeeded {
            self.forget_transfer(transfer);
        }
    }

    /// Reports a new state to the transferor: a NOTIFY now, or queued behind the one in
    /// flight (the subscription layer decides).
    fn notify(&mut self, transfer: TransferId, body: Bytes, last: bool) {
        let now = self.now;
        let Some(Xfer::Transferee(t)) = self.transfers.get_mut(&transfer).map(|x| &mut **x) else {
            return;
        };
        if let Some(n) = t.sub.notify(now, body, last) {
            self.send_notify(transfer, n);
        }
    }

    /// Sends a NOTIFY of the refer subscription in the transfer's dialog (RFC 3515 §2.4.4,
    /// RFC 6665 §4.2.2), written straight from the dialog ([`super::in_dialog`]).
    fn send_notify(&mut self, transfer: TransferId, n: Notify) {
        let Some(Xfer::Transferee(t)) = self.transfers.get(&transfer).map(|x| &**x) else {
            return;
        };
        let call = t.call;
        let contact = match &t.sub_dialog {
            // The dialog an out-of-dialog REFER created (RFC 4538).
            Some(d) => Some(NameAddr::new(self.contact_uri(d.peer.transport))),
            None => self.contact_for(call),
        };
        if t.sub_dialog.is_none() && self.call_dialog(call).is_none() {
            return;
        }
        if !self.make_room() {
            // Overloaded: as if unanswered; a final one ends the subscription now.
            if n.last {
                self.end_subscription(transfer);
            }
            return;
        }
        let Some(Xfer::Transferee(t)) = self.transfers.get_mut(&transfer).map(|x| &mut **x) else {
            return;
        };
        let d = match &mut t.sub_dialog {
            Some(d) => d,
            None => match super::calls::dialog_of(&mut self.calls, &mut self.lingering, call) {
                Some(d) => d,
                None => return,
            },
        };
        let fields = n.headers();
        let r = crate::msg::emit::InDialog {
            method: Method::Notify,
            contact: contact.as_ref(),
            fields: &fields,
            body: &n.body,
        };
        let local = self.config.local_addr;
        let (_, dest, req) = super::in_dialog(d, &r, local, &mut self.ids, &mut self.layer);
        let tx = self.send_outgoing(dest, req);
        self.tx_transfers.insert(tx, transfer);
        if let Some(Xfer::Transferee(t)) = self.transfers.get_mut(&transfer).map(|x| &mut **x) {
            t.sub.sent(tx);
        }
    }

    /// RFC 5589 §6: after a success the transferor normally BYEs the original call; if it
    /// has not within the grace period (counted from when it knows: the final NOTIFY was
    /// answered), the transferee does.
    fn bye_grace(&mut self, transfer: TransferId) {
        if let Some(orig) = self.transfers.get(&transfer).map(|x| &**x).map(Xfer::call) {
            let at = self.now + self.config.transfer_bye_grace;
            self.arm(orig, Timer::Transfer(transfer), at);
        }
    }

    /// The subscription we serve is over (final NOTIFY answered, 481, or no answer).
    fn end_subscription(&mut self, transfer: TransferId) {
        let Some(Xfer::Transferee(t)) = self.transfers.get_mut(&transfer).map(|x| &mut **x) else {
            return;
        };
        t.sub.end();
        let (new_call, call, succeeded) = (t.new_call, t.call, t.succeeded);
        let calling = new_call.is_some_and(|nc| self.reports_to(nc).is_some());
        if succeeded {
            // The record lives on for the BYE grace timer.
            self.bye_grace(transfer);
        } else if calling {
            // The call to the target goes on without reports, as with `Refer-Sub: false`
            // (the subscription was only one usage of the dialog, RFC 5057): no expiry to
            // wait for any more; the call's end decides what happens.
            self.disarm(call, Timer::Transfer(transfer));
        } else {
            self.forget_transfer(transfer);
        }
    }

    /// A SUBSCRIBE for `refer` in a call's dialog (the REFER's implicit subscription, RFC
    /// 3515 §2.4.4; RFC 6665 §4.2.1): 200 with Expires for a live subscription (Expires 0
    /// ends it with a final NOTIFY), 403 when there is none.
    pub(super) fn incoming_subscribe(&mut self, call: CallId, tx: TxId, request: &Message) {
        let id = match subscription::target(request) {
            Ok(id) => id,
            Err(code) => {
                self.answer_with(tx, code, Vec::new());
                return;
            }
        };
        // A REFER not yet accepted has no subscription.
        let found = self.xfers_of(call).find(|t| {
            matches!(self.transfers.get(t).map(|x| &**x), Some(Xfer::Transferee(x)) if x.tx.is_none() && x.sub.matches(id))
        });
        let Some(transfer) = found else {
            self.answer_with(tx, 403, Vec::new());
            return;
        };
        self.subscribe_to(transfer, call, tx, request);
    }

    /// A request in the dialog an out-of-dialog REFER created (RFC 4538): a SUBSCRIBE that
    /// refreshes or ends its subscription; anything else gets 481. `false` if `id` is no
    /// such dialog.
    pub(super) fn subscription_dialog_request(
        &mut self,
        tx: TxId,
        id: &crate::dialog::DialogId,
        request: &Message,
    ) -> bool {
        let Some(&transfer) = self.sub_dialogs.get(id) else {
            return false;
        };
        let Some(Xfer::Transferee(t)) = self.transfers.get_mut(&transfer).map(|x| &mut **x) else {
            return false;
        };
        let call = t.call;
        if let Some(d) = &mut t.sub_dialog {
            if let Err(code) = d.on_request(request) {
                self.answer_with(tx, code, Vec::new());
                return true;
            }
        }
        match (request.method(), subscription::target(request)) {
            (Some(Method::Subscribe), Err(code)) => self.answer_with(tx, code, Vec::new()),
            (Some(Method::Subscribe), Ok(_)) => self.subscribe_to(transfer, call, tx, request),
            _ => self.answer_with(tx, 481, Vec::new()),
        }
        true
    }

    /// A SUBSCRIBE for the subscription of `transfer` (RFC 6665 §4.2.1).
    fn subscribe_to(&mut self, transfer: TransferId, call: CallId, tx: TxId, request: &Message) {
        let (now, limit) = (self.now, self.config.refer_expires);
        let Some(Xfer::Transferee(t)) = self.transfers.get_mut(&transfer).map(|x| &mut **x) else {
            return;
        };
        let s = t.sub.on_subscribe(now, request.expires(), limit);
        // Unsubscribed: the call to the target is no longer reported on.
        if let Some(nc) = t.new_call.take_if(|_| s.unsubscribed) {
            self.set_reports_to(nc, None);
        }
        self.answer_with(tx, 200, alloc::vec![Header::Expires(s.expires)]);
        if let Some(at) = s.expires_at {
            self.arm(call, Timer::Transfer(transfer), at);
        }
        if let Some(n) = s.notify {
            self.send_notify(transfer, n);
        }
    }

    /// Live subscriptions (for [`crate::Stats`]).
    pub(super) fn subscription_count(&self) -> usize {
        self.transfers
            .values()
            .filter(|x| match &***x {
                Xfer::Transferor(t) => !t.done,
                Xfer::Transferee(t) => t.sub.is_live(),
            })
            .count()
    }

    /// A REFER or NOTIFY of a transfer was sent again with credentials: the subscription
    /// follows the new CSeq (its `id`).
    pub(super) fn transfer_request_retried(&mut self, old: TxId, new: TxId, seq: u32) {
        let Some(transfer) = self.tx_transfers.remove(&old) else {
            return;
        };
        self.tx_transfers.insert(new, transfer);
        match self.transfers.get_mut(&transfer).map(|x| &mut **x) {
            Some(Xfer::Transferor(t)) if t.refer_tx == Some(old) => {
                t.refer_tx = Some(new);
                t.sub.refer_resent(seq);
            }
            Some(Xfer::Transferor(t)) if t.refresh_tx == Some(old) => t.refresh_tx = Some(new),
            Some(Xfer::Transferee(t)) if t.sub.in_flight() == Some(old) => t.sub.sent(new),
            _ => {}
        }
    }

    /// The call a transfer transaction belongs to.
    pub(super) fn transfer_call_of(&self, tx: TxId) -> Option<CallId> {
        self.tx_transfers
            .get(&tx)
            .and_then(|t| self.transfers.get(t).map(|x| &**x))
            .map(Xfer::call)
    }

    /// A 2xx to a REFER carries `Refer-Sub: false` (RFC 4488)?
    pub(super) fn refer_sub_of(response: &Message) -> bool {
        response.refer_sub().is_none_or(|r| r.value)
    }
}
