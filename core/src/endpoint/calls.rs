//! INVITE sessions (RFC 3261 §13–§15) on top of the transaction layer: calls as the
//! application sees them, their dialogs, the 2xx retransmission and ACK of §13.3.1.4 /
//! §13.2.2.4, re-INVITE hold and resume (§14, RFC 3264 §8.4) with 491 glare handling, BYE,
//! CANCEL, and 481 for requests that match no dialog.

use super::{Endpoint, Event, Outgoing, Timer};
use crate::dialog::{uri_destination, Dialog, DialogKey, DialogState};
use crate::error::Error;
use crate::msg::emit::{InDialog, OurVia};
use crate::msg::pool::{HeaderPool, MIN};
use crate::msg::{Contact, Header, MediaType, Message, Method, NameAddr, Params, Uri, Values};
use crate::sdp::{self, Direction};
use crate::text::Detach as _;
use crate::text::SipStr;
use crate::time::{Duration, Instant};
use crate::transaction::{Layer, TxId};
use crate::transport::Destination;
use alloc::format;
use alloc::vec::Vec;
use bytes::Bytes;
use smallvec::SmallVec;

/// A call, as the endpoint numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(pub(crate) u64);

impl CallId {
    /// The number (unique for the endpoint's lifetime).
    pub fn get(self) -> u64 {
        self.0
    }
}

/// How to place a call. Build it with `CallOptions { offer: Some(sdp), ..Default::default() }`.
#[derive(Clone, Debug, Default)]
pub struct CallOptions {
    /// Our identity (From); default `sip:<local_addr>`.
    pub from: Option<NameAddr<SipStr>>,
    /// The SDP offer, sent as `application/sdp` (opaque to the core). `None` places the
    /// call without one (RFC 3261 §13.2.1): the callee's offer comes in its 2xx
    /// ([`Event::RemoteSdp`] with [`SdpKind::Offer`]), and [`Endpoint::answer`] sends the
    /// ACK with the answer (§13.2.2.4).
    pub offer: Option<Bytes>,
    /// More headers for the INVITE.
    pub headers: Vec<Header<SipStr>>,
    /// Where to send the INVITE; default: [`crate::Config::outbound_proxy`], else the target
    /// URI's address when it is an IP address (the core does no DNS).
    pub dest: Option<Destination>,
}

/// Why a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// We hung up (BYE sent, or CANCEL/reject of a call not yet answered).
    LocalHangup,
    /// The peer sent BYE.
    RemoteHangup,
    /// The INVITE got a final non-2xx response (the status says which).
    Rejected,
    /// The peer cancelled the INVITE before we answered (487 sent).
    Cancelled,
    /// No final response in time (Timer B, 408).
    Timeout,
    /// Our 2xx was never ACKed (§13.3.1.4): BYE sent.
    NoAck,
    /// A request in the dialog got 408 or 481, or no answer (§12.2.1.2, RFC 5057).
    DialogGone,
    /// The INVITE was challenged and could not be authenticated ([`Event::AuthFailed`]).
    AuthFailed,
    /// Another call replaced it (RFC 3891: an INVITE with `Replaces` was answered): BYE
    /// sent for a confirmed call, CANCEL for our own call still ringing.
    Replaced,
    /// The 2xx to our INVITE without an offer carried one, and it was not answered
    /// ([`Endpoint::answer`]) within 32·T1 (16 s), half the time the peer retransmits its 2xx
    /// for: the ACK refused every stream (RFC 3264 §6) and a BYE was sent (RFC 3261
    /// §13.2.2.4).
    OfferUnanswered,
}

/// What a session description the peer sent is in the offer/answer exchange (RFC 3264 §2,
/// as SIP carries it: RFC 3261 §13.2.1, §14), as [`Event::RemoteSdp`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpKind {
    /// An offer: in a re-INVITE, or in the 2xx to an INVITE of ours that carried none
    /// (§13.2.1: "the initial offer MUST be in either an INVITE or, if not there, in the
    /// first reliable non-failure message from the UAS back to the UAC").
    Offer,
    /// An answer to our offer: in a 2xx to our INVITE or re-INVITE, in a provisional response
    /// before it (§13.2.1: "that same exact answer MAY also be placed in any provisional
    /// responses sent prior to the answer"), or in the ACK of our 2xx that carried an offer
    /// ("the answer MUST be in the acknowledgement for that message").
    Answer,
}

/// The states a call goes through, as [`Event::CallState`] reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallState {
    /// INVITE sent.
    Calling,
    /// 180 received.
    Ringing,
    /// Another provisional with a To tag (an early dialog, e.g. 183).
    Early,
    /// The 2xx was exchanged (and ACKed — for a call placed without an offer, the ACK
    /// waits for [`Endpoint::answer`] to the 2xx's offer): the call is up.
    Confirmed,
    /// A re-INVITE put the session on hold (`a=sendonly` or `a=inactive` offered by either
    /// side, RFC 3264 §8.4); the status is the re-INVITE's 2xx.
    Held,
    /// A re-INVITE took the session off hold.
    Resumed,
    /// The call ended.
    Terminated {
        /// Why.
        reason: EndReason,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Uac,
    Uas,
}

/// Our re-INVITE in progress.
#[derive(Clone, Debug)]
struct Reinvite {
    tx: TxId,
    offer: Bytes,
}

/// What is kept of an INVITE transaction of ours while it lives: a 2xx on it gets its ACK —
/// the ACK belongs to the INVITE transaction, not to the dialog (§13.2.2.4, §17.1) — even
/// once its call is over.
#[derive(Clone, Debug)]
// Always boxed, the large variant the usual one (the box a call's INVITE was made with).
#[allow(clippy::large_enum_variant)]
pub(crate) enum Orphan {
    /// What a call's INVITE said ([`Sent`]): the call's while it is up ([`Call::sent`]), then,
    /// if the call ends while a 2xx can still come, the endpoint's ([`Endpoint::orphans`],
    /// the same box, moved) until the transaction ends — in Accepted (RFC 6026 §7.2: until
    /// Timer M, 64·T1 after the first 2xx) for a call hung up or BYEd within 64·T1 of its
    /// answer, or whose CANCEL crossed a 2xx. "The UAC core MUST generate an ACK request
    /// for each 2xx received from the transaction layer" and, for a dialog it does not
    /// want, "MUST terminate the dialog by sending a BYE request" (§13.2.2.4): another
    /// fork's 2xx is ACKed, then BYEd, as while the call was up; the 2xx of the call's own
    /// dialog again gets an ACK only.
    Invite(Sent),
    /// The dialog of a call that ended while its re-INVITE was pending (RFC 5407 §3.2.3),
    /// for as long as that transaction lives.
    Reinvite {
        dialog: alloc::boxed::Box<Dialog>,
        /// The ACK once sent, with where it went: sent again for each 2xx retransmission.
        ack: Option<(Destination, Bytes)>,
    },
}

/// A BYE of a call's, unanswered (see [`Endpoint::bye_answered`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct Bye {
    /// The call it ends.
    pub(super) call: CallId,
    /// The highest CSeq used in the call's dialog: the BYE's, or what its lingering dialog
    /// sent since.
    pub(super) seq: u32,
    /// Sent again once already.
    pub(super) retried: bool,
}

/// Most early dialogs kept per call (a forking proxy may create one per branch, §13.2.2.4).
const MAX_EARLY: usize = 16;

#[derive(Clone, Debug)]
pub(crate) struct Call {
    role: Role,
    state: CallState,
    /// Boxed: a `Dialog` is 744 bytes, most of a call's room. In the slab the whole room
    /// was written when the call began (into a slot freed long before, so cold: 19 cache
    /// lines), its dialog still empty, and the dialog's part again when the dialog came; in a
    /// box of its own, a call is 464 bytes and its dialog is written once, when it comes. The
    /// box passes on to [`Endpoint::lingering`] when the call ends and its subscriptions live
    /// on.
    dialog: Option<alloc::boxed::Box<Dialog>>,
    /// The pending INVITE transaction (client or server).
    pub(super) invite_tx: Option<TxId>,
    /// UAC: where the INVITE went; UAS: where responses go.
    dest: Destination,
    /// UAS: the local address the INVITE arrived on (the 2xx leaves from it, §18.2.2).
    local: Option<core::net::SocketAddr>,
    /// UAS: the 2xx retransmitted until the ACK.
    ok: Option<Bytes>,
    ok_interval: Duration,
    ok_since: Instant,
    /// The CSeq of the INVITE the pending 2xx answers, and what to report when its ACK
    /// comes.
    ok_seq: u32,
    ok_state: Option<CallState>,
    /// The pending 2xx carries our offer (its INVITE had none): the answer comes in the ACK
    /// (RFC 3261 §13.2.1).
    ok_offer: bool,
    /// The ACK of our latest INVITE's 2xx (with that INVITE's CSeq), sent again for each
    /// retransmission of that 2xx.
    ack: Option<(u32, Destination, Bytes)>,
    /// Hang up once the pending exchange allows it (BYE after the ACK, §15).
    hangup_pending: bool,
    cancelled: bool,
    /// The SDP we sent last (offer or answer): what hold and resume re-offer.
    local_sdp: Option<Bytes>,
    /// The session is on hold (put there by either side).
    held: bool,
    /// Our re-INVITE in progress.
    reinvite: Option<Reinvite>,
    /// An offer to re-INVITE again when [`Timer::GlareRetry`] fires.
    retry: Option<Bytes>,
    /// UAC: the early dialogs of other forks (the first one is `dialog`).
    early: Vec<Dialog>,
    /// UAS: the address the INVITE came from (for [`crate::Config::max_calls_per_remote`]).
    remote_ip: Option<core::net::IpAddr>,
    /// The peer listed `norefersub` in `Supported` (RFC 4488 §4).
    peer_norefersub: bool,
    /// UAS: the call this one replaces, ended when this one is answered (RFC 3891 §3).
    pub(super) replaces: Option<CallId>,
    /// A call that replaced this one was answered: it ends with [`EndReason::Replaced`].
    pub(super) replaced: bool,
    /// A REFER came in this call's dialog already: later ones get NOTIFYs with `id` (RFC
    /// 3515 §2.4.6).
    pub(super) refer_seen: bool,
    /// We sent a REFER in this call's dialog already: only the first one's NOTIFYs may omit
    /// `id` (RFC 3515 §2.4.6).
    pub(super) refer_sent: bool,
    /// As a transferee, the transfer this call to the target was placed for: its progress is
    /// NOTIFYed to the transferor (RFC 3515 §2.4.4), until its outcome.
    pub(super) for_transfer: Option<super::TransferId>,
    /// UAC: what our INVITE said, while its transaction lives (see [`Sent`]; always
    /// [`Orphan::Invite`]: the box the endpoint keeps if the call ends first).
    sent: Option<alloc::boxed::Box<Orphan>>,
}

/// What a UAC's INVITE said that the dialog of each response with a To tag is made of
/// (§12.1.2: one per fork, §13.2.2.4): its transaction keeps only the bytes it sent, and
/// parsing them again for each dialog would cost what writing them saved. Kept until that
/// transaction ends (no fork's 2xx can come after, RFC 6026 §8.4) — past the end of the call
/// if need be ([`Orphan::Invite`]).
#[derive(Clone, Debug)]
pub(super) struct Sent {
    /// From, with our tag.
    local: NameAddr<SipStr>,
    /// To, whose URI is the Request-URI.
    remote: NameAddr<SipStr>,
    call_id: SipStr,
    /// The CSeq number (one more after each challenge's retry).
    seq: u32,
    /// The INVITE carried no offer (§13.2.1: each 2xx then carries one, whatever the
    /// application answers to the first).
    offerless: bool,
    /// The offer the 2xx to this INVITE (which had none) carried, while the ACK waits for
    /// the application's answer ([`Endpoint::answer`]; RFC 3261 §13.2.2.4: "If the 2xx
    /// contains an offer …, the ACK MUST carry an answer in its body"). Given up after 32·T1
    /// ([`Endpoint::offer_unanswered`]), well before the transaction ends (Timer M, 64·T1,
    /// RFC 6026 §7.2) and this record with it.
    offer: Option<Bytes>,
    /// The forks whose 2xx lost to the first (§13.2.2.4: ACKed, then BYEd), by To tag, with
    /// where their ACK went and the ACK: a retransmission of their 2xx gets the same ACK
    /// again, not another BYE. At most [`MAX_EARLY`] (a fork beyond them gets another ACK
    /// and another BYE for each copy of its 2xx).
    forks: Vec<(SipStr, Destination, Bytes)>,
    /// Once the call is over ([`Orphan::Invite`]): the To tag of its own dialog, when it had
    /// one confirmed.
    winner: Option<SipStr>,
    /// The target set, once a 3xx redirected the INVITE (RFC 3261 §8.1.3.4): the
    /// Request-URI is then its current URI, not the To's.
    #[cfg(feature = "redirects")]
    targets: Option<alloc::boxed::Box<super::redirect::Targets>>,
    /// The INVITE went to an outbound proxy, or to a destination the application named
    /// other than its Request-URI's address: a redirected one goes the same way.
    #[cfg(feature = "redirects")]
    routed: bool,
}

impl Sent {
    /// The dialog `response` (with a To tag) makes with `peer` (§12.1.2).
    fn dialog(&self, response: &Message, peer: Destination) -> Option<Dialog> {
        Dialog::uac_of(
            &self.local,
            self.call_id.as_str(),
            self.seq,
            Some(self.request_uri()),
            response,
            peer,
        )
    }

    /// The Request-URI of the INVITE: the To's URI, or where a 3xx redirected it.
    fn request_uri(&self) -> &Uri<SipStr> {
        #[cfg(feature = "redirects")]
        if let Some(t) = &self.targets {
            return t.current();
        }
        &self.remote.uri
    }
}

/// What [`Endpoint::end_call`] keeps of a call it ends.
struct EndedCall {
    dialog: Option<alloc::boxed::Box<Dialog>>,
    early: Vec<Dialog>,
    reinvite: Option<Reinvite>,
    invite_tx: Option<TxId>,
    remote_ip: Option<core::net::IpAddr>,
    sent: Option<alloc::boxed::Box<Orphan>>,
    ack: Option<(u32, Destination, Bytes)>,
}

impl Call {
    /// The dialog is confirmed (the INVITE that made it is answered; its transaction may
    /// linger to absorb retransmissions).
    pub(super) fn confirmed(&self) -> bool {
        self.dialog
            .as_ref()
            .is_some_and(|d| d.state == DialogState::Confirmed)
    }

    fn new(role: Role, invite_tx: TxId, dest: Destination, now: Instant) -> Call {
        Call {
            role,
            state: CallState::Calling,
            dialog: None,
            invite_tx: Some(invite_tx),
            dest,
            local: None,
            ok: None,
            ok_interval: Duration::ZERO,
            ok_since: now,
            ok_seq: 0,
            ok_state: None,
            ok_offer: false,
            ack: None,
            hangup_pending: false,
            cancelled: false,
            local_sdp: None,
            held: false,
            reinvite: None,
            retry: None,
            early: Vec::new(),
            remote_ip: None,
            peer_norefersub: false,
            replaces: None,
            replaced: false,
            refer_seen: false,
            refer_sent: false,
            for_transfer: None,
            sent: None,
        }
    }

    /// The session is on hold.
    pub(super) fn is_held(&self) -> bool {
        self.held
    }

    /// Our own INVITE, not answered yet (Calling, Ringing, Early).
    pub(super) fn is_outgoing_pending(&self) -> bool {
        self.role == Role::Uac && self.invite_tx.is_some() && !self.confirmed()
    }

    /// UAC: the Request-URI of our INVITE, while its transaction lives.
    pub(super) fn invite_uri(&self) -> Option<&Uri<SipStr>> {
        self.sent().map(Sent::request_uri)
    }

    /// UAC: the target set of our INVITE ([`super::redirect`]), made (holding its
    /// Request-URI) when `make` says so, and whether the INVITE went straight to where its
    /// Request-URI points (not through a proxy: [`Sent::routed`]); `None` for a call that is
    /// not ours, or that we are cancelling or hanging up.
    #[cfg(feature = "redirects")]
    pub(super) fn redirect_targets(
        &mut self,
        make: bool,
    ) -> Option<(&mut super::redirect::Targets, bool)> {
        if self.role != Role::Uac || self.cancelled || self.hangup_pending {
            return None;
        }
        let sent = self.sent_mut()?;
        if sent.targets.is_none() && make {
            let original = sent.remote.uri.clone();
            sent.targets = Some(alloc::boxed::Box::new(super::redirect::Targets::new(
                original,
            )));
        }
        let direct = !sent.routed;
        sent.targets.as_deref_mut().map(|t| (t, direct))
    }

    /// UAC: what our INVITE said, while its transaction lives.
    fn sent(&self) -> Option<&Sent> {
        match self.sent.as_deref() {
            Some(Orphan::Invite(s)) => Some(s),
            _ => None,
        }
    }

    fn sent_mut(&mut self) -> Option<&mut Sent> {
        match self.sent.as_deref_mut() {
            Some(Orphan::Invite(s)) => Some(s),
            _ => None,
        }
    }

    /// The call's INVITE transaction ended (64·T1 after its final response on UDP): no
    /// response to it can come any more, so what a UAC's INVITE said ([`Sent`]) is not
    /// needed, and, the call up, neither is the ACK that answered its 2xx (§13.2.2.4; no
    /// 2xx can come or be retransmitted for that INVITE any more, RFC 6026 §7.1, §8.4).
    pub(super) fn invite_ended(&mut self) {
        self.sent = None;
        if self.confirmed() {
            self.ack = None;
        }
    }

    /// The peer listed `norefersub` in `Supported` (RFC 4488 §4).
    pub(super) fn peer_norefersub(&self) -> bool {
        self.peer_norefersub
    }

    /// UAC: the 2xx to our INVITE carried an offer, and its ACK waits for the application's
    /// answer ([`Sent::offer`]).
    fn ack_due(&self) -> bool {
        self.sent().is_some_and(|s| s.offer.is_some())
    }

    /// A confirmed dialog with no INVITE exchange in progress either way (§14.1: one INVITE
    /// transaction at a time).
    fn idle(&self) -> bool {
        self.confirmed()
            && self.ok.is_none()
            && !self.ack_due()
            && self.reinvite.is_none()
            && self.retry.is_none()
    }
}

impl Endpoint {
    /// Places a call to `target` (RFC 3261 §13.2.1): INVITE with From (new tag), To, a new
    /// Call-ID, CSeq 1, Contact and the offer. Progress comes as [`Event::CallState`].
    pub fn call(
        &mut self,
        now: Instant,
        target: Uri<SipStr>,
        options: CallOptions,
    ) -> Result<CallId, Error> {
        self.tick(now);
        #[cfg(feature = "redirects")]
        let routed = match options.dest {
            Some(d) => uri_destination(&target, crate::transport::Transport::Udp)
                .is_none_or(|u| u.addr != d.addr),
            None => self.config.outbound_proxy.is_some(),
        };
        let dest = options
            .dest
            .or(self.config.outbound_proxy)
            .or_else(|| uri_destination(&target, crate::transport::Transport::Udp))
            .ok_or(Error::NoRoute)?;
        if self.calls.len() >= self.config.max_dialogs {
            return Err(Error::TooManyDialogs);
        }
        let mut local = options
            .from
            .unwrap_or_else(|| NameAddr::new(self.local_uri(dest.transport)));
        let call_id = SipStr::from(self.ids.local_call_id().as_str());
        let tag = self.ids.tag();
        local.params.remove("tag");
        local.params.push("tag", Some(tag.as_str()));
        let sent = Sent {
            local,
            remote: NameAddr::new(target),
            call_id,
            seq: 1,
            offerless: options.offer.is_none(),
            offer: None,
            forks: Vec::new(),
            winner: None,
            #[cfg(feature = "redirects")]
            targets: None,
            #[cfg(feature = "redirects")]
            routed,
        };
        let contact = NameAddr::new(self.local_uri(dest.transport));
        let mut fields: SmallVec<[Header<SipStr>; 4]> = SmallVec::new();
        fields.extend(self.supported_header());
        fields.extend(options.headers);
        if options.offer.is_some() {
            fields.push(Header::ContentType(sdp_type()));
        }
        let r = InDialog {
            method: Method::Invite,
            contact: Some(&contact),
            fields: &fields,
            body: options.offer.as_deref().unwrap_or_default(),
        };
        let tx = self.send_initial(dest, &sent, &r)?;
        let id = CallId(self.next_call);
        self.next_call += 1;
        let mut c = Call::new(Role::Uac, tx, dest, self.now);
        c.local_sdp = options.offer;
        c.sent = Some(alloc::boxed::Box::new(Orphan::Invite(sent)));
        self.calls.insert(id, c);
        self.tx_calls.insert(tx, id);
        self.call_state(id, CallState::Calling, None);
        Ok(id)
    }

    /// Sends `r`, a request outside any dialog from and to `sent`'s parties with its CSeq
    /// (RFC 3261 §8.1.1: the INVITE of a call), in a new client transaction: written
    /// straight from its parts ([`crate::msg::emit::request_bytes`]), or built as the same
    /// bytes when it cannot be, or when the application's fields among `r`'s hold what
    /// `RequestBuilder::build` places itself (it moves a Via to the top, puts a CSeq after
    /// each Call-ID; an application's CSeq is left to it too).
    fn send_initial(
        &mut self,
        dest: Destination,
        sent: &Sent,
        r: &InDialog<'_>,
    ) -> Result<TxId, Error> {
        let moved = r
            .fields
            .iter()
            .any(|h| matches!(h, Header::Via(_) | Header::CallId(_) | Header::CSeq(_)));
        if !moved {
            if !self.make_room() {
                return Err(Error::TooManyTransactions);
            }
            let branch = self.ids.branch();
            let via = OurVia {
                transport: dest.transport,
                addr: self.config.local_addr,
                branch: branch.as_str(),
            };
            let parties = crate::msg::emit::Parties {
                from: &sent.local,
                to: &sent.remote,
                call_id: sent.call_id.as_str(),
            };
            let blocks = &mut self.layer.sent_once;
            let written = crate::msg::emit::request_bytes(&parties, r, sent.seq, &via, blocks);
            let request = Outgoing::of(written, r, &via, || self.initial_request(sent, r));
            return Ok(self.send_outgoing(dest, request));
        }
        let m = self.initial_request(sent, r);
        self.send_built(dest, m)
    }

    /// `r` built as [`Endpoint::send_initial`] would write it, without our Via.
    fn initial_request(&mut self, sent: &Sent, r: &InDialog<'_>) -> Message {
        let list = self.layer.pool.take(MIN);
        let mut b = crate::msg::builder::RequestBuilder::new_in(
            r.method.clone(),
            sent.remote.uri.clone(),
            list,
        )
        .from(sent.local.clone(), sent.local.tag().unwrap_or_default())
        .to(sent.remote.clone())
        .call_id(sent.call_id.as_str())
        .cseq(sent.seq);
        if let Some(c) = r.contact {
            let mut v = Values::new();
            v.push(c.clone());
            b = b.header(Header::Contact(Contact::Addrs(v)));
        }
        for h in r.fields {
            b = b.header(h.clone());
        }
        let mut m = b.build();
        m.body = Bytes::copy_from_slice(r.body);
        m
    }

    /// Answers an incoming call with 200 and the SDP `answer` (§13.3.1.4); the 2xx is
    /// retransmitted until the ACK arrives.
    ///
    /// Also answers the offer of the 2xx to a call we placed without one
    /// ([`CallOptions::offer`] `None`; [`Event::RemoteSdp`] with [`SdpKind::Offer`]): the
    /// ACK, which waits for it, goes with `answer` in its body (RFC 3261 §13.2.2.4: "If the
    /// 2xx contains an offer …, the ACK MUST carry an answer in its body"), and is sent
    /// again for each retransmission of the 2xx. Hanging up first sends an ACK that refuses
    /// every stream ([`crate::sdp::refusal`]), then the BYE; so does no answer within 32·T1,
    /// 16 s ([`EndReason::OfferUnanswered`]).
    /// `None` (or an empty answer) is [`Error::InvalidState`] there: to refuse the offer,
    /// hang up.
    pub fn answer(
        &mut self,
        now: Instant,
        call: CallId,
        answer: Option<Bytes>,
    ) -> Result<(), Error> {
        self.tick(now);
        if self.calls.get(&call).is_some_and(|c| c.ack_due()) {
            // The ACK must carry an answer: refusing the offer is hanging up.
            let answer = answer
                .filter(|a| !a.is_empty())
                .ok_or(Error::InvalidState)?;
            self.send_due_ack(call, Some(answer));
            self.flush();
            return Ok(());
        }
        let tx = self.pending_incoming(call)?;
        self.send_invite_2xx(call, tx, answer, Some(CallState::Confirmed))?;
        let c = self.calls.get_mut(&call).expect("checked");
        c.invite_tx = None;
        if let Some(d) = &mut c.dialog {
            d.state = DialogState::Confirmed;
        }
        // RFC 3891 §3: the new call is accepted; the one it replaces is shut down.
        if let Some(old) = c.replaces.take() {
            self.end_replaced(old);
        }
        Ok(())
    }

    /// Sends the 2xx to an INVITE or re-INVITE of `call` (Contact and the SDP `body`) and
    /// retransmits it until the ACK (§13.3.1.4), which reports `on_ack`.
    fn send_invite_2xx(
        &mut self,
        call: CallId,
        tx: TxId,
        body: Option<Bytes>,
        on_ack: Option<CallState>,
    ) -> Result<(), Error> {
        let c = self.calls.get(&call).ok_or(Error::UnknownCall)?;
        let transport = c.dest.transport;
        let mut extra: SmallVec<[Header<SipStr>; 3]> = SmallVec::new();
        extra.push(self.contact_header(transport));
        extra.extend(self.supported_header());
        if body.is_some() {
            extra.push(Header::ContentType(sdp_type()));
        }
        let request = self.layer.request(tx);
        let seq = request.and_then(|r| r.cseq()).map_or(0, |c| c.seq);
        let offer = body.is_some() && request.is_some_and(|r| r.body.is_empty());
        // The bytes of the 2xx, which the call retransmits until the ACK (§13.3.1.4): written
        // straight from the INVITE, or built when they cannot be.
        let sdp = body.as_deref().unwrap_or_default();
        let bytes = match self.respond_plain(tx, 200, &extra, sdp) {
            Some(sent) => {
                self.flush();
                sent.map_err(super::respond_error)?
            }
            None => {
                let mut r = self.response(tx, 200)?;
                r.headers.extend(extra);
                if let Some(sdp) = &body {
                    r.body = sdp.clone();
                }
                let bytes = self.respond_sent(tx, &r)?;
                self.layer.pool.recycle(r);
                bytes
            }
        };
        let t1 = self.config.timers.t1;
        let c = self.calls.get_mut(&call).expect("checked");
        if body.is_some() {
            c.local_sdp = body;
        }
        c.ok = Some(bytes);
        c.ok_interval = t1;
        c.ok_since = self.now;
        c.ok_seq = seq;
        c.ok_state = on_ack;
        c.ok_offer = offer;
        self.arm(call, Timer::Retransmit2xx, self.now + t1);
        Ok(())
    }

    /// Puts the call on hold (RFC 3264 §8.4): a re-INVITE whose offer is our last SDP with
    /// `a=sendonly` and the `o=` version bumped ([`crate::sdp::reoffer`]). The 2xx reports
    /// [`CallState::Held`]; a 491 is retried after the §14.1 delay; another failure leaves
    /// the state as it was (reported with the status); 408, 481 or no answer end the call
    /// ([`EndReason::DialogGone`], §12.2.1.2, RFC 5057).
    pub fn hold(&mut self, now: Instant, call: CallId) -> Result<(), Error> {
        self.redirect(now, call, Direction::SendOnly)
    }

    /// Takes the call off hold: a re-INVITE offering `a=sendrecv`, reported as
    /// [`CallState::Resumed`]. See [`Endpoint::hold`].
    pub fn resume(&mut self, now: Instant, call: CallId) -> Result<(), Error> {
        self.redirect(now, call, Direction::SendRecv)
    }

    fn redirect(&mut self, now: Instant, call: CallId, dir: Direction) -> Result<(), Error> {
        let c = self.calls.get(&call).ok_or(Error::UnknownCall)?;
        let offer = c.local_sdp.as_ref().ok_or(Error::InvalidState)?;
        let offer = sdp::reoffer(offer, dir);
        self.reinvite(now, call, offer)
    }

    /// Sends a re-INVITE (§14.1) with `offer` (an SDP the application built). The result is
    /// reported as for [`Endpoint::hold`]: [`CallState::Held`] when the offer's direction is
    /// sendonly or inactive, else [`CallState::Resumed`]. Refused with
    /// [`Error::InvalidState`] unless the call is confirmed and no INVITE is in progress
    /// in either direction.
    pub fn reinvite(&mut self, now: Instant, call: CallId, offer: Bytes) -> Result<(), Error> {
        self.tick(now);
        let c = self.calls.get(&call).ok_or(Error::UnknownCall)?;
        if !c.idle() || c.hangup_pending {
            return Err(Error::InvalidState);
        }
        self.send_reinvite(call, offer)
    }

    fn send_reinvite(&mut self, call: CallId, offer: Bytes) -> Result<(), Error> {
        let c = self.calls.get(&call).ok_or(Error::UnknownCall)?;
        if c.dialog.is_none() {
            return Err(Error::InvalidState);
        }
        let contact = NameAddr::new(self.local_uri(c.dest.transport));
        if !self.make_room() {
            return Err(Error::TooManyTransactions);
        }
        let c = self.calls.get_mut(&call).expect("checked");
        let d = c.dialog.as_mut().ok_or(Error::InvalidState)?;
        let fields = [Header::ContentType(sdp_type())];
        let r = InDialog {
            method: Method::Invite,
            contact: Some(&contact),
            fields: &fields,
            body: &offer,
        };
        let local = self.config.local_addr;
        let (_, dest, req) = super::in_dialog(d, &r, local, &mut self.ids, &mut self.layer);
        let tx = self.send_outgoing(dest, req);
        let c = self.calls.get_mut(&call).expect("checked");
        c.reinvite = Some(Reinvite { tx, offer });
        self.tx_calls.insert(tx, call);
        Ok(())
    }

    /// A response to an INVITE of a call that has ended ([`Orphan`]): a 2xx gets the ACK
    /// (the same bytes again for a retransmission), and another fork's 2xx a BYE too
    /// ([`Endpoint::late_2xx`]); anything else is the transaction's.
    fn orphan_response(&mut self, tx: TxId, response: &Message) {
        if !matches!(response.status(), Some(200..=299)) {
            return;
        }
        let Some(o) = self.orphans.get_mut(&tx) else {
            return;
        };
        let Orphan::Reinvite { dialog, ack } = &mut **o else {
            self.late_2xx(tx, response);
            return;
        };
        if let Some((dest, ack)) = ack.clone() {
            self.out.retransmissions += 1;
            self.send_to(dest, None, ack);
            return;
        }
        let d = &mut **dialog;
        if let Some(t) = response.contacts().next() {
            d.remote_target = t.uri.clone().detached();
        }
        let seq = response.cseq().map_or(d.local_seq, |c| c.seq);
        let dest = d.destination();
        let (local, pool) = (self.config.local_addr, &mut self.layer.pool);
        let bytes = ack_in(d, seq, dest.transport, local, &mut self.ids, pool, None);
        *ack = Some((dest, bytes.clone()));
        self.send_to(dest, None, bytes);
    }

    /// A 2xx to the INVITE of a call that has ended ([`Orphan::Invite`]): the call's own
    /// dialog's 2xx again gets an ACK (written again: the call kept none once over, unless
    /// it answered an offer, then kept with the forks'); another fork's, an ACK and a BYE.
    fn late_2xx(&mut self, tx: TxId, response: &Message) {
        // Where the call's INVITE was bound (UDP for one sent over TCP for its size), as the
        // call's own dialogs were made.
        let Some(peer) = self.layer.get(tx).map(|t| t.bound_for()) else {
            return;
        };
        let Some(Orphan::Invite(sent)) = self.orphans.get_mut(&tx).map(|o| &mut **o) else {
            return;
        };
        let Some(dialog) = sent.dialog(response, peer) else {
            return;
        };
        let tag = &dialog.id.remote_tag;
        let own = sent.winner.as_ref().is_some_and(|w| w == tag);
        // The call's own 2xx to an INVITE without an offer, whose ACK (with the answer) is
        // not kept — a re-INVITE's ACK followed it — is not ACKed again with another answer
        // (nor is it while the call is up).
        if own && sent.offerless && !sent.forks.iter().any(|f| f.0 == *tag) {
            return;
        }
        let invite = (sent.seq, sent.offerless);
        let mut forks = core::mem::take(&mut sent.forks);
        let bye = self.fork_2xx(invite, &mut forks, response, dialog, !own);
        if let Some(Orphan::Invite(sent)) = self.orphans.get_mut(&tx).map(|o| &mut **o) {
            sent.forks = forks;
        }
        self.send_fork_bye(bye);
    }

    /// A response to our re-INVITE (§14.1).
    fn reinvite_response(&mut self, call: CallId, response: &Message) {
        let Some(code) = response.status() else {
            return;
        };
        if code < 200 {
            return;
        }
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(re) = c.reinvite.take() else {
            return;
        };
        match code {
            200..=299 => {
                let Some(d) = c.dialog.as_mut() else {
                    return;
                };
                // §12.2.1.2: a 2xx to a target refresh request replaces the remote target.
                if let Some(t) = response.contacts().next() {
                    d.remote_target = t.uri.clone().detached();
                }
                let seq = response.cseq().map_or(d.local_seq, |c| c.seq);
                let dest = d.destination();
                let (local, pool) = (self.config.local_addr, &mut self.layer.pool);
                let bytes = ack_in(d, seq, dest.transport, local, &mut self.ids, pool, None);
                let held = sdp::direction(&re.offer).is_hold();
                c.local_sdp = Some(re.offer);
                self.send_to(dest, None, bytes.clone());
                let c = self.calls.get_mut(&call).expect("live");
                c.ack = Some((seq, dest, bytes));
                self.remote_sdp(call, SdpKind::Answer, Some(code), &response.body);
                self.report_direction(call, held, Some(code));
                self.on_hold_done(call, held);
                self.hangup_if_pending(call);
            }
            491 => {
                // §14.1: try again after T: 2.1–4 s when we own the Call-ID (we sent the
                // INVITE that made the dialog), 0–2 s otherwise, in units of 10 ms.
                let owner = c.role == Role::Uac;
                c.retry = Some(re.offer);
                let r = u64::from(self.ids.next_u32());
                let tens = if owner { 210 + r % 191 } else { r % 201 };
                let at = self.now + Duration::from_millis(tens * 10);
                self.arm(call, Timer::GlareRetry, at);
            }
            408 | 481 => self.dialog_gone(call, code),
            _ => {
                // §14.1: the session stays as it was.
                let state = c.state;
                self.call_state(call, state, Some(code));
                self.on_hold_done(call, false);
                self.hangup_if_pending(call);
            }
        }
    }

    /// §12.2.1.2, RFC 5057 §5.1: a 481 or 408 (or no response) to a request in the dialog
    /// ends it; after a 408 or a timeout the peer may still hold it, so it gets a BYE.
    fn dialog_gone(&mut self, call: CallId, code: u16) {
        if code != 481 {
            self.bye_and_end(call, EndReason::DialogGone, Some(code));
        } else {
            self.end_call(call, EndReason::DialogGone, Some(code));
        }
    }

    fn report_direction(&mut self, call: CallId, held: bool, status: Option<u16>) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let state = if held {
            CallState::Held
        } else {
            CallState::Resumed
        };
        c.held = held;
        self.call_state(call, state, status);
    }

    fn hangup_if_pending(&mut self, call: CallId) {
        if self.calls.get(&call).is_some_and(|c| c.hangup_pending) {
            self.bye_and_end(call, EndReason::LocalHangup, None);
        }
    }

    /// Sends the ACK that the 2xx of `call` waits for ([`Sent::offer`]) with `answer` in its
    /// body (RFC 3261 §13.2.2.4), or, without one, an answer that refuses every offered
    /// stream (§13.2.2.4: "If the offer in the 2xx response is not acceptable, the UAC core
    /// MUST generate a valid answer in the ACK and then send a BYE immediately";
    /// [`sdp::refusal`]); and keeps it for the 2xx's retransmissions. It carries the
    /// INVITE's CSeq whatever the dialog sent meanwhile (a REFER, a NOTIFY). With a large
    /// body it goes over TCP, as any large request does (§18.1.1).
    fn send_due_ack(&mut self, call: CallId, answer: Option<Bytes>) {
        let Some(c) = self.calls.get_mut(&call).filter(|c| c.dialog.is_some()) else {
            return;
        };
        let Some((seq, offer)) = c.sent_mut().and_then(|s| Some((s.seq, s.offer.take()?))) else {
            return;
        };
        let d = c.dialog.as_deref_mut().expect("checked");
        let body = match &answer {
            Some(sdp) => sdp.clone(),
            None => sdp::refusal(&offer),
        };
        let dest = d.destination();
        let (local, pool) = (self.config.local_addr, &mut self.layer.pool);
        let bytes = ack_in(
            d,
            seq,
            dest.transport,
            local,
            &mut self.ids,
            pool,
            Some(&body),
        );
        let (dest, bytes) = self.ack_sized(dest, bytes);
        let c = self.calls.get_mut(&call).expect("live");
        if answer.is_some() {
            c.local_sdp = answer;
        }
        c.ack = Some((seq, dest, bytes.clone()));
        self.send_to(dest, None, bytes);
        self.disarm(call, Timer::AnswerDue);
    }

    /// The 2xx's offer of `call` was not answered ([`Endpoint::answer`]) within 32·T1
    /// ([`Timer::AnswerDue`]): the ACK refuses every stream and a BYE ends the call (RFC 3261 §13.2.2.4),
    /// [`EndReason::OfferUnanswered`] — half the time the peer retransmits its 2xx before it
    /// gives up on the ACK and ends the call itself (§13.3.1.4: 64·T1).
    pub(super) fn offer_unanswered(&mut self, call: CallId) {
        if self.calls.get(&call).is_some_and(|c| c.ack_due()) {
            self.bye_and_end(call, EndReason::OfferUnanswered, None);
        }
    }

    /// Reports a session description the peer sent in `call` ([`Event::RemoteSdp`]),
    /// if `body` holds one.
    fn remote_sdp(&mut self, call: CallId, kind: SdpKind, status: Option<u16>, body: &Bytes) {
        if !body.is_empty() {
            self.events.push_back(Event::RemoteSdp {
                call,
                kind,
                status,
                sdp: body.clone(),
            });
        }
    }

    /// A re-INVITE from the peer (§14.2), answered at once: 491 while our own re-INVITE is
    /// in progress or our INVITE's ACK waits for the answer to its 2xx's offer, 500 with Retry-After while an earlier INVITE is not finished, else 200
    /// with our last SDP, its direction mirrored from the offer (RFC 3264 §6.1) and its
    /// version bumped.
    ///
    /// A re-INVITE that arrives before the ACK of our 2xx (RFC 5407 §3.1.4–§3.1.5: that ACK
    /// was lost or is late) stands for it — the peer sends a new INVITE only after ACKing
    /// (§14.1) — unless our 2xx carried an offer: its answer is in that ACK, and a new offer
    /// before it collides with ours, so 491 (§14.2), and the peer retries once the ACK,
    /// retransmitted with our 2xx, has landed. An offer that puts us on hold is reported as [`CallState::Held`] once
    /// the ACK arrives; one that takes us off hold as [`CallState::Resumed`].
    fn incoming_reinvite(&mut self, call: CallId, tx: TxId, seq: u32, body: &Bytes) {
        let c = self.calls.get(&call).expect("indexed");
        // Our own re-INVITE in progress, or our INVITE's ACK still waiting for the answer to
        // the 2xx's offer (the INVITE is not over, §14.1; an offer now collides, §14.2).
        if c.reinvite.is_some() || c.ack_due() {
            self.answer_with(tx, 491, Vec::new());
            return;
        }
        if c.ok.is_some() && seq > c.ok_seq {
            if c.ok_offer {
                self.answer_with(tx, 491, Vec::new());
                return;
            }
            // The peer sends a new INVITE only after ACKing our 2xx (§14.1): that ACK was
            // lost or is late, so this request stands for it.
            self.ack_received(call);
        }
        let Some(c) = self.calls.get(&call) else {
            // That ACK let a pending hangup go (BYE sent): the dialog is over.
            self.answer_with(tx, 481, Vec::new());
            return;
        };
        if c.ok.is_some() || !c.confirmed() {
            let seconds = self.ids.next_u32() % 10;
            self.answer_with(tx, 500, alloc::vec![super::retry_after(seconds)]);
            return;
        }
        let offered = (!body.is_empty()).then(|| sdp::direction(body));
        let answer = match (&c.local_sdp, offered) {
            (Some(ours), Some(dir)) => Some(sdp::reoffer(ours, dir.answer())),
            // No offer: ours goes in the 2xx, unchanged in direction (§14.2).
            (Some(ours), None) => Some(sdp::reoffer(ours, sdp::direction(ours))),
            // An offer we cannot answer (we never had a session description).
            (None, Some(_)) => {
                self.answer_with(tx, 488, Vec::new());
                return;
            }
            (None, None) => None,
        };
        let report = match offered {
            Some(d) if d.is_hold() => Some(CallState::Held),
            Some(_) if c.held => Some(CallState::Resumed),
            _ => None,
        };
        if offered.is_some() {
            self.remote_sdp(call, SdpKind::Offer, None, body);
        }
        let _ = self.send_invite_2xx(call, tx, answer, report);
    }

    /// Sends a provisional response (e.g. 180 Ringing) to an incoming call.
    pub fn ring(&mut self, now: Instant, call: CallId, code: u16) -> Result<(), Error> {
        self.tick(now);
        let tx = self.pending_incoming(call)?;
        if !(101..=199).contains(&code) {
            return Err(Error::InvalidMessage("not a provisional status"));
        }
        let transport = self.calls[&call].dest.transport;
        let mut r = self.response(tx, code)?;
        r.headers.push(self.contact_header(transport));
        self.respond(now, tx, r)
    }

    /// Rejects an incoming call with a final status (≥ 300: 486 Busy Here, 603 Decline, ...).
    pub fn reject(&mut self, now: Instant, call: CallId, code: u16) -> Result<(), Error> {
        self.tick(now);
        if !(300..=699).contains(&code) {
            return Err(Error::InvalidMessage("not a failure status"));
        }
        self.refuse(now, call, code, None)
    }

    /// Answers an incoming call not answered yet with the final status `code` (and
    /// `contact`), and ends it.
    fn refuse(
        &mut self,
        now: Instant,
        call: CallId,
        code: u16,
        contact: Option<Header<SipStr>>,
    ) -> Result<(), Error> {
        let tx = self.pending_incoming(call)?;
        let mut r = self.response(tx, code)?;
        if let Some(c) = contact {
            r.headers.push(c);
        }
        self.respond(now, tx, r)?;
        self.end_call(call, EndReason::LocalHangup, Some(code));
        Ok(())
    }

    /// Redirects an incoming call not answered yet (RFC 3261 §8.3, §21.3): a 3xx — 302 Moved
    /// Temporarily, 301 Moved Permanently, 300 Multiple Choices — whose Contact lists
    /// `targets`, where the caller is to call instead (a call forwarded or deflected). A caller
    /// that follows redirections (§8.1.3.4; this endpoint does,
    /// [`crate::Config::max_redirects`]) sends a new INVITE to them. The call ends here
    /// ([`EndReason::LocalHangup`], with the status).
    ///
    /// ```
    /// # use sipxfer::{Config, Endpoint, Instant, CallId};
    /// # use sipxfer::msg::{NameAddr, Uri};
    /// # fn forward(ep: &mut Endpoint, now: Instant, call: CallId) -> Result<(), sipxfer::Error> {
    /// let carol = NameAddr::new(Uri::parse("sip:carol@192.0.2.3:5060").unwrap());
    /// ep.redirect_call(now, call, 302, vec![carol])
    /// # }
    /// ```
    pub fn redirect_call(
        &mut self,
        now: Instant,
        call: CallId,
        code: u16,
        targets: Vec<NameAddr<SipStr>>,
    ) -> Result<(), Error> {
        self.tick(now);
        if !(300..=399).contains(&code) {
            return Err(Error::InvalidMessage("not a redirection status"));
        }
        if targets.is_empty() {
            return Err(Error::InvalidMessage(
                "a redirection names at least one target",
            ));
        }
        let contact = Header::Contact(Contact::Addrs(targets.into_iter().collect()));
        self.refuse(now, call, code, Some(contact))
    }

    /// Ends a call: BYE once confirmed (§15.1.1), CANCEL while our INVITE is pending (§9.1),
    /// 603 for an incoming call not answered yet. A call whose 2xx offered and waits for
    /// [`Endpoint::answer`] gets its ACK first, refusing every stream (§13.2.2.4).
    pub fn hangup(&mut self, now: Instant, call: CallId) -> Result<(), Error> {
        self.tick(now);
        let c = self.calls.get_mut(&call).ok_or(Error::UnknownCall)?;
        match (c.role, c.state, c.invite_tx) {
            (Role::Uac, CallState::Calling | CallState::Ringing | CallState::Early, Some(tx)) => {
                c.cancelled = true;
                c.hangup_pending = true;
                let _ = self.layer.cancel(self.now, tx, &mut self.out);
                self.flush();
                Ok(())
            }
            (Role::Uas, _, Some(_)) => self.reject(now, call, 603),
            (_, _, _) if c.ok.is_some() => {
                // §15: no BYE before the ACK of our 2xx.
                c.hangup_pending = true;
                Ok(())
            }
            _ => {
                self.bye_and_end(call, EndReason::LocalHangup, None);
                self.flush();
                Ok(())
            }
        }
    }

    /// Cancels our call before it is answered (RFC 3261 §9.1): CANCEL once a provisional
    /// response has arrived; the INVITE then ends with 487 and the call with
    /// [`EndReason::LocalHangup`]. [`Error::InvalidState`] for a call that is not a pending
    /// outgoing one (use [`Endpoint::hangup`] for those).
    pub fn cancel_call(&mut self, now: Instant, call: CallId) -> Result<(), Error> {
        let c = self.calls.get(&call).ok_or(Error::UnknownCall)?;
        if c.role != Role::Uac || c.confirmed() || c.invite_tx.is_none() {
            return Err(Error::InvalidState);
        }
        self.hangup(now, call)
    }

    // ----- internals -----

    /// The server INVITE transaction of an incoming call not answered yet.
    fn pending_incoming(&self, call: CallId) -> Result<TxId, Error> {
        let c = self.calls.get(&call).ok_or(Error::UnknownCall)?;
        c.invite_tx
            .filter(|_| c.role == Role::Uas)
            .ok_or(Error::InvalidState)
    }

    /// `Supported` (§20.37) for our INVITEs and their 2xx: the option tags of
    /// [`crate::Config::supported`] (held inline: up to four cost no allocation).
    fn supported_header(&self) -> Option<Header<SipStr>> {
        let s = &self.config.supported;
        (!s.is_empty()).then(|| Header::Supported(s.iter().cloned().collect()))
    }

    /// Our Contact URI over transport `t`.
    pub(super) fn contact_uri(&self, t: crate::transport::Transport) -> Uri<SipStr> {
        self.local_uri(t)
    }

    fn local_uri(&self, t: crate::transport::Transport) -> Uri<SipStr> {
        let i = match t {
            crate::transport::Transport::Udp => 0,
            crate::transport::Transport::Tcp => 1,
            _ => 2,
        };
        self.local_uris[i].clone()
    }

    /// `sip:<local_addr>` for UDP, TCP (`;transport=tcp`) and TLS (`;transport=tls`).
    pub(super) fn local_uris(addr: core::net::SocketAddr) -> [Uri<SipStr>; 3] {
        ["", ";transport=tcp", ";transport=tls"].map(|tp| {
            Uri::parse(&format!("sip:{addr}{tp}")).unwrap_or(Uri::Other {
                scheme: "sip".into(),
                opaque: "".into(),
            })
        })
    }

    fn contact_header(&self, t: crate::transport::Transport) -> Header<SipStr> {
        let mut v = Values::new();
        v.push(NameAddr::new(self.local_uri(t)));
        Header::Contact(Contact::Addrs(v))
    }

    pub(super) fn call_state(&mut self, call: CallId, state: CallState, status: Option<u16>) {
        if let Some(c) = self.calls.get_mut(&call) {
            c.state = state;
        }
        self.events.push_back(Event::CallState {
            call,
            state,
            status,
        });
        self.on_call_state(call, state, status);
    }

    pub(super) fn end_call(&mut self, call: CallId, reason: EndReason, status: Option<u16>) {
        self.finish_call(call, reason, status, None);
    }

    /// [`Endpoint::end_call`], after `bye` (ours, ending it) when one was sent.
    fn finish_call(
        &mut self,
        call: CallId,
        reason: EndReason,
        status: Option<u16>,
        bye: Option<TxId>,
    ) {
        // A 2xx whose offer still waits for the application's answer is ACKed first, every
        // stream refused (§13.2.2.4: an ACK for each 2xx; a no-op after `bye_and_end`).
        self.send_due_ack(call, None);
        let reason = match self.calls.get(&call) {
            Some(c) if c.replaced && reason == EndReason::LocalHangup => EndReason::Replaced,
            _ => reason,
        };
        self.call_state(call, CallState::Terminated { reason }, status);
        // What the bookkeeping below needs is taken out; the rest of the call is dropped in
        // its slot rather than moved out of it.
        if let Some(c) = self.calls.get_mut(&call) {
            let c = EndedCall {
                dialog: c.dialog.take(),
                early: core::mem::take(&mut c.early),
                reinvite: c.reinvite.take(),
                invite_tx: c.invite_tx,
                remote_ip: c.remote_ip,
                sent: c.sent.take(),
                ack: c.ack.take(),
            };
            self.calls.discard(&call);
            // The confirmed dialog's id is hashed once for the tables it leaves and the one
            // it joins (the same keys: `Table::hash`).
            let h = c.dialog.as_ref().map(|d| self.dialogs.hash(&d.id));
            if let Some(h) = h {
                self.early_dialogs.remove(h, call);
            }
            for d in &c.early {
                self.early_dialogs
                    .remove(self.early_dialogs.hash(&d.id), call);
            }
            if let (Some(re), Some(d)) = (&c.reinvite, &c.dialog) {
                let orphan = Orphan::Reinvite {
                    dialog: d.clone(),
                    ack: None,
                };
                self.orphans.insert(re.tx, alloc::boxed::Box::new(orphan));
            }
            // A 2xx can still come on a transaction that had one or none yet (not after a
            // non-2xx final: Completed).
            let open = c
                .invite_tx
                .and_then(|tx| self.layer.get(tx))
                .is_some_and(|t| t.state != crate::transaction::State::Completed);
            if let (Some(tx), Some(mut orphan), true) = (c.invite_tx, c.sent, open) {
                if let Orphan::Invite(sent) = &mut *orphan {
                    let confirmed = c
                        .dialog
                        .as_deref()
                        .filter(|d| d.state == DialogState::Confirmed);
                    sent.winner = confirmed.map(|d| d.id.remote_tag.clone());
                    sent.offer = None;
                    // An ACK that carried an answer (to the 2xx's offer) is kept to be sent
                    // again as it was; one without a body is written again if need be.
                    // (One entry past `MAX_EARLY` at most.)
                    if let (Some(tag), Some((seq, dest, ack))) = (&sent.winner, c.ack) {
                        if sent.offerless && seq == sent.seq {
                            sent.forks.push((tag.clone(), dest, ack));
                        }
                    }
                }
                self.orphans.insert(tx, orphan);
            }
            let mut confirmed = None;
            if let (Some(d), Some(h)) = (c.dialog, h) {
                self.dialogs.remove(h, call);
                // A session that was up and ended is remembered a while (RFC 3891 §3: a
                // Replaces naming it gets 603); an early dialog that never was is not.
                if d.state == DialogState::Confirmed {
                    let until = self.now + self.config.timers.t1x64();
                    if self.ended.insert(h, d.id.clone(), until) {
                        self.arm(super::ENDED, Timer::ForgetDialog, until);
                    }
                    confirmed = Some(d);
                }
            }
            if let Some(tx) = c.invite_tx {
                self.tx_calls.remove(&tx);
            }
            if let Some(ip) = c.remote_ip {
                if let Some(n) = self.calls_per_remote.get_mut(&ip) {
                    *n -= 1;
                    if *n == 0 {
                        self.calls_per_remote.remove(&ip);
                    }
                }
            }
            self.disarm(call, Timer::Retransmit2xx);
            self.disarm(call, Timer::GlareRetry);
            self.disarm(call, Timer::ReplacedGrace);
            self.on_call_ended(call, confirmed, bye);
        }
    }

    /// Ends `call` with a BYE (§15.1.1: the session is over once the BYE is sent).
    fn bye_and_end(&mut self, call: CallId, reason: EndReason, status: Option<u16>) {
        // §15: the BYE follows the ACK of the 2xx; one still waiting for the application's
        // answer goes refusing every stream (§13.2.2.4).
        self.send_due_ack(call, None);
        let bye = self.send_bye(call);
        self.finish_call(call, reason, status, bye);
    }

    /// Sends a BYE in `call`'s dialog (RFC 3261 §15.1.1); its transaction. Written straight
    /// from the dialog, as the ACK is ([`super::in_dialog`]).
    fn send_bye(&mut self, call: CallId) -> Option<TxId> {
        if self.calls.get(&call)?.dialog.is_none() || !self.make_room() {
            return None;
        }
        let d = self.calls.get_mut(&call)?.dialog.as_mut()?;
        let (seq, dest, bye) = bye_in(d, self.config.local_addr, &mut self.ids, &mut self.layer);
        let tx = self.send_outgoing(dest, bye);
        let b = Bye {
            call,
            seq,
            retried: false,
        };
        self.quiet.insert(tx, Some(b));
        Some(tx)
    }

    /// A response to `tx`, when it is one of our BYEs. RFC 3261 §12.2.2 has the peer refuse
    /// 500 a request whose CSeq is below the last it received in the dialog — which is what
    /// our BYE gets when a later request of ours in the same dialog (the final NOTIFY of a
    /// refer subscription that outlives the call, RFC 5057 §5.1) reached the peer first
    /// while the BYE's copies were lost. The session ended at our end when the BYE went out
    /// (§15.1.1), and the peer would keep it: a BYE answered 500 is sent once more, as a new
    /// request with a CSeq above every one used in the dialog (§12.2.1.1; §21.5.1: a client
    /// may retry a request answered 500).
    pub(super) fn bye_answered(&mut self, tx: TxId, status: u16) {
        if status < 200 || (status == 500 && self.bye_again(tx)) {
            return;
        }
        // Answered: a dialog that lingered for this BYE alone goes.
        if let Some(Some(b)) = self.quiet.get(&tx).copied() {
            self.bye_ended(b.call, tx);
        }
    }

    /// A response to `tx` when it is one of our BYEs: one answered 500 goes once more
    /// (see above). `true` when it went.
    fn bye_again(&mut self, tx: TxId) -> bool {
        let Some(Some(b)) = self.quiet.get_mut(&tx) else {
            return false;
        };
        if core::mem::replace(&mut b.retried, true) {
            return false;
        }
        let Some(dest) = self.layer.get(tx).map(|t| t.bound_for()) else {
            return false;
        };
        let Some(bye) = self.layer.request_copy(tx) else {
            return false;
        };
        let seq = self.next_seq_for(tx, bye.cseq().map_or(0, |c| c.seq));
        let new = self.send_again(dest, bye, seq);
        // Its entry, marked sent again and with `seq` (`next_seq_for`), goes to `new`.
        let q = self.quiet.get(&tx).copied().flatten();
        self.quiet_moved(tx, new, q);
        true
    }

    /// Our BYE `tx` timed out (Timer F, §17.1.2.2; its transaction is gone). The session
    /// ended at our end when it went (§15.1.1), and a peer that never received it is gone or
    /// unreachable — unless a later request of ours in the same dialog (a NOTIFY of a refer
    /// subscription that outlives the call, RFC 5057 §5.1) reached the peer before any copy
    /// of the BYE did: each copy is then refused 500 (§12.2.2), and when every one of those
    /// answers is lost the peer keeps the call. So a BYE overtaken so, in a dialog that still
    /// lingers — for its subscriptions, or, they being over, for this BYE — is written once
    /// more from it with the next CSeq (§12.2.1.1); one that nothing overtook is not, and the
    /// dialog goes with the transaction if it lingered for the BYE alone (`bye_ended`).
    pub(super) fn bye_timed_out(&mut self, tx: TxId) {
        let Some(Some(b)) = self.quiet.get(&tx).copied() else {
            return;
        };
        if b.retried || self.lingering_byes.get(&b.call) != Some(&tx) {
            return;
        }
        if self
            .lingering
            .get(&b.call)
            .is_none_or(|d| d.local_seq <= b.seq)
            || !self.make_room()
        {
            return;
        }
        let Some(d) = self.lingering.get_mut(&b.call) else {
            return;
        };
        let (seq, dest, bye) = bye_in(d, self.config.local_addr, &mut self.ids, &mut self.layer);
        let new = self.send_outgoing(dest, bye);
        let again = Bye {
            call: b.call,
            seq,
            retried: true,
        };
        self.quiet_moved(tx, new, Some(again));
    }

    /// RFC 3891 §3: a call that replaces `old` was answered, so `old` is shut down: BYE for a
    /// confirmed dialog (once our 2xx is ACKed, §15), CANCEL for our own INVITE still
    /// pending; it ends with [`EndReason::Replaced`].
    pub(super) fn end_replaced(&mut self, old: CallId) {
        let Some(c) = self.calls.get_mut(&old) else {
            return;
        };
        c.replaced = true;
        let _ = self.hangup(self.now, old);
    }

    /// [`Timer::GlareRetry`] fired: the re-INVITE again (§14.1).
    pub(super) fn glare_retry(&mut self, call: CallId) {
        let offer = self.calls.get_mut(&call).and_then(|c| c.retry.take());
        if let Some(offer) = offer {
            if self.send_reinvite(call, offer).is_err() {
                self.bye_and_end(call, EndReason::LocalHangup, None);
            }
        }
    }

    /// [`Timer::Retransmit2xx`] fired (§13.3.1.4).
    pub(super) fn retransmit_2xx(&mut self, call: CallId) {
        let (t2, give_up) = (self.config.timers.t2, self.config.timers.t1x64());
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(ok) = c.ok.clone() else {
            return;
        };
        if self.now >= c.ok_since + give_up {
            // §13.3.1.4: no ACK within 64·T1: confirm, then end the session with BYE.
            c.ok = None;
            self.bye_and_end(call, EndReason::NoAck, None);
            return;
        }
        c.ok_interval = (c.ok_interval * 2).min(t2);
        let next = (self.now + c.ok_interval).min(c.ok_since + give_up);
        let (dest, local) = (c.dest, c.local);
        self.out.retransmissions += 1;
        self.send_to(dest, local, ok);
        self.arm(call, Timer::Retransmit2xx, next);
    }

    /// A new INVITE outside any dialog: a new call (§13.3.1).
    pub(super) fn incoming_invite(&mut self, tx: TxId, source: crate::transport::Source) {
        if self.calls.len() >= self.config.max_dialogs {
            if let Ok(mut r) = self.response(tx, 503) {
                r.headers.push(super::retry_after(5));
                let _ = self.layer.respond(self.now, tx, &r, &mut self.out);
                self.layer.pool.recycle(r);
            }
            return;
        }
        let ip = source.remote.ip();
        if self.calls_per_remote.get(&ip).copied().unwrap_or(0) >= self.config.max_calls_per_remote
        {
            self.answer_with(tx, 486, Vec::new());
            return;
        }
        // RFC 3891 §3: the call an INVITE with Replaces names, or its refusal.
        let replaces = match self.replaces_target(self.layer.request(tx).expect("new")) {
            Ok(r) => r,
            Err(code) => {
                self.answer_with(tx, code, Vec::new());
                return;
            }
        };
        let Some(tag) = self.tag_for(tx, 180) else {
            return;
        };
        let Some(request) = self.layer.hand_over_request(tx) else {
            return;
        };
        let (peer, local) = {
            let t = self.layer.get(tx).expect("new");
            (t.dest, t.local)
        };
        let seq = self.ids.next_u32() & 0x7fff_ffff;
        let Some(dialog) = Dialog::uas(&request, &tag, seq, peer) else {
            return;
        };
        let id = CallId(self.next_call);
        self.next_call += 1;
        self.dialogs.insert(self.dialogs.hash(&dialog.id), id);
        let offer = (!request.body.is_empty()).then(|| request.body.clone());
        let referred_by = request.referred_by().cloned();
        let mut c = Call::new(Role::Uas, tx, peer, self.now);
        c.dialog = Some(alloc::boxed::Box::new(dialog));
        c.local = local;
        c.remote_ip = Some(ip);
        c.peer_norefersub = request
            .supported()
            .any(|t| t.eq_ignore_ascii_case("norefersub"));
        c.replaces = replaces;
        self.calls.insert(id, c);
        *self.calls_per_remote.entry(ip).or_insert(0) += 1;
        self.tx_calls.insert(tx, id);
        self.events.push_back(Event::IncomingCall {
            call: id,
            replaces,
            request,
            offer,
            referred_by,
            source,
        });
    }

    /// A request with a To tag (§12.2.2): the dialog's, or 481.
    pub(super) fn in_dialog_request(&mut self, tx: TxId, source: crate::transport::Source) -> bool {
        let request = self.layer.request(tx).expect("new");
        let Some(key) = DialogKey::of_request(request) else {
            return false;
        };
        let Some(call) = self.dialog_call(key) else {
            let id = key.to_id();
            // A copy (the endpoint is borrowed while it is read), its list from the pool and
            // given back to it after.
            let request = self.layer.clone_request(tx).expect("new");
            self.in_other_dialog(tx, &id, &request);
            self.layer.pool.recycle(request);
            return true;
        };
        let c = self.calls.get_mut(&call).expect("indexed");
        let d = c.dialog.as_mut().expect("indexed");
        if let Err(code) = d.on_request(request) {
            self.answer_with(tx, code, Vec::new());
            return true;
        }
        match request.method() {
            Some(Method::Bye) => {
                // Nothing more to read from it: no copy.
                self.answer_with(tx, 200, Vec::new());
                self.end_call(call, EndReason::RemoteHangup, None);
                return true;
            }
            Some(Method::Notify) => {
                // Reads what it needs from the transaction: no copy either.
                self.incoming_notify(call, tx);
                return true;
            }
            // What these need is taken out of them: no copy of the whole request.
            Some(Method::Refer) => {
                let refer = super::transfer::ReadRefer::of(request);
                self.incoming_refer(call, tx, refer);
                return true;
            }
            Some(Method::Invite) => {
                let seq = request.cseq().map_or(0, |c| c.seq);
                let body = request.body.clone();
                self.incoming_reinvite(call, tx, seq, &body);
                return true;
            }
            _ => {}
        }
        // The handlers below answer the request through its transaction while reading it.
        let Some(request) = self.layer.clone_request(tx) else {
            return true;
        };
        // The usages a call's dialog carries besides the session (a subscription, ...), or
        // the application.
        self.in_dialog_usage(call, tx, request, source);
        true
    }

    /// An ACK outside any transaction: the ACK of our 2xx (§13.3.1.4). `false` if it belongs
    /// to no call.
    pub(super) fn call_ack(&mut self, ack: &Message) -> bool {
        let Some(call) = DialogKey::of_request(ack).and_then(|k| self.dialog_call(k)) else {
            return false;
        };
        let c = self.calls.get_mut(&call).expect("indexed");
        let seq = ack.cseq().map(|c| c.seq);
        if c.ok.is_none() || seq != Some(c.ok_seq) {
            return true; // a retransmitted ACK, or the ACK of an earlier INVITE
        }
        // Our 2xx carried an offer: the ACK carries the answer (§13.2.1).
        if c.ok_offer {
            self.remote_sdp(call, SdpKind::Answer, None, &ack.body);
        }
        self.ack_received(call);
        true
    }

    /// The ACK of our pending 2xx: stop retransmitting it and report what it confirmed.
    fn ack_received(&mut self, call: CallId) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        c.ok = None;
        let report = c.ok_state.take();
        self.disarm(call, Timer::Retransmit2xx);
        match report {
            Some(CallState::Held) => self.report_direction(call, true, Some(200)),
            Some(CallState::Resumed) => self.report_direction(call, false, Some(200)),
            Some(s) => self.call_state(call, s, Some(200)),
            None => {}
        }
        self.hangup_if_pending(call);
    }

    /// A CANCEL ended the pending INVITE `tx` (487 sent): the call is over.
    pub(super) fn call_cancelled(&mut self, tx: TxId) -> bool {
        self.end_invite(tx, |_| EndReason::Cancelled, 487)
    }

    /// The call's INVITE transaction `tx` ended without a dialog: the call ends with
    /// `reason` and `status`. `false` if `tx` is no call's.
    fn end_invite(
        &mut self,
        tx: TxId,
        reason: impl FnOnce(&Call) -> EndReason,
        status: u16,
    ) -> bool {
        let Some(call) = self.tx_calls.remove(&tx) else {
            return false;
        };
        let reason = match self.calls.get_mut(&call) {
            Some(c) => {
                c.invite_tx = None;
                reason(c)
            }
            None => return true,
        };
        self.end_call(call, reason, Some(status));
        true
    }

    /// A response on a call's client INVITE (§13.2.2); true when `tx` is no call's (the
    /// application gets the response).
    pub(super) fn call_response(&mut self, tx: TxId, response: &Message) -> bool {
        if self.orphans.contains_key(&tx) {
            self.orphan_response(tx, response);
            return false;
        }
        let Some(&call) = self.tx_calls.get(&tx) else {
            return true;
        };
        let Some(code) = response.status() else {
            return false;
        };
        if self
            .calls
            .get(&call)
            .and_then(|c| c.reinvite.as_ref())
            .is_some_and(|r| r.tx == tx)
        {
            self.reinvite_response(call, response);
            return false;
        }
        let initial = self
            .calls
            .get(&call)
            .is_some_and(|c| c.invite_tx == Some(tx));
        if !initial {
            // A 2xx retransmitted for an earlier re-INVITE whose transaction lingers
            // (RFC 6026 Accepted): the same ACK again.
            if (200..300).contains(&code) {
                self.stray_2xx(response);
            }
            return false;
        }
        match code {
            100 => {}
            101..=199 => {
                if let (Some(c), true) = (
                    self.calls.get_mut(&call),
                    response.to().and_then(|t| t.tag()).is_some(),
                ) {
                    // §13.2.2.4 / §12.1.2: each To tag is an early dialog (one per fork).
                    let fresh = DialogKey::of_response(response).filter(|k| {
                        c.dialog
                            .as_deref()
                            .into_iter()
                            .chain(&c.early)
                            .all(|d| !k.is(&d.id))
                    });
                    if fresh.is_some() {
                        let d = c.sent().and_then(|s| s.dialog(response, c.dest));
                        let h = d.as_ref().map(|d| self.early_dialogs.hash(&d.id));
                        let kept = if c.dialog.is_none() {
                            c.dialog = d.map(alloc::boxed::Box::new);
                            true
                        } else if c.early.len() < MAX_EARLY {
                            c.early.extend(d);
                            true
                        } else {
                            false
                        };
                        if let (true, Some(h)) = (kept, h) {
                            self.early_dialogs.insert(h, call);
                        }
                    }
                }
                let state = if code == 180 {
                    CallState::Ringing
                } else {
                    CallState::Early
                };
                // An answer to our offer ahead of the 2xx (§13.2.1; early media). Without
                // an offer of ours, the peer's comes in the 2xx (an unreliable provisional
                // response carries none).
                let sent = self.calls.get(&call).and_then(|c| c.sent());
                if sent.is_some_and(|s| !s.offerless) {
                    self.remote_sdp(call, SdpKind::Answer, Some(code), &response.body);
                }
                self.call_state(call, state, Some(code));
            }
            200..=299 => self.call_2xx(call, response),
            #[cfg(feature = "redirects")]
            _ if self.follow_redirect(call, tx, Some(response), code) => {}
            _ => {
                self.end_invite(
                    tx,
                    |c| {
                        if c.cancelled {
                            EndReason::LocalHangup
                        } else if matches!(code, 401 | 407) {
                            EndReason::AuthFailed
                        } else {
                            EndReason::Rejected
                        }
                    },
                    code,
                );
            }
        }
        false
    }

    /// A 2xx to our INVITE: the dialog is confirmed and ACKed (§13.2.2.4); a 2xx from another
    /// branch of a fork is ACKed and BYEd; a retransmitted 2xx gets the same ACK.
    fn call_2xx(&mut self, call: CallId, response: &Message) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(sent) = c.sent() else {
            return;
        };
        let Some(mut dialog) = sent.dialog(response, c.dest) else {
            return;
        };
        // The INVITE's CSeq number (§13.2.2.4).
        let seq = sent.seq;
        let answered = c.ack.is_some() || c.ack_due();
        let same = answered && c.dialog.as_ref().is_some_and(|d| d.id == dialog.id);
        if same {
            // A retransmission: the same ACK again (none yet while it waits for the
            // application's answer).
            let seq = response.cseq().map(|c| c.seq);
            if let Some((_, dest, ack)) = c.ack.clone().filter(|a| Some(a.0) == seq) {
                self.out.retransmissions += 1;
                self.send_to(dest, None, ack);
            }
            return;
        }
        if answered {
            // Another fork's 2xx (§13.2.2.4): ACKed, then BYEd.
            let invite = (sent.seq, sent.offerless);
            let Some(s) = c.sent_mut() else {
                return;
            };
            let mut forks = core::mem::take(&mut s.forks);
            let bye = self.fork_2xx(invite, &mut forks, response, dialog, true);
            if let Some(s) = self.calls.get_mut(&call).and_then(|c| c.sent_mut()) {
                s.forks = forks;
            }
            self.send_fork_bye(bye);
            return;
        }
        // §13.2.1: the 2xx to an INVITE without an offer carries one, and its ACK the
        // answer, which the application gives (`Endpoint::answer`).
        let offered = sent.offerless && !response.body.is_empty();
        let dest = dialog.destination();
        let (local, pool) = (self.config.local_addr, &mut self.layer.pool);
        let ack = if offered {
            Bytes::new()
        } else {
            let ack = ack_in(
                &mut dialog,
                seq,
                dest.transport,
                local,
                &mut self.ids,
                pool,
                None,
            );
            self.send_to(dest, None, ack.clone());
            ack
        };
        let c = self.calls.get_mut(&call).expect("live");
        match c.sent_mut() {
            Some(s) if offered => s.offer = Some(response.body.clone()),
            _ => c.ack = Some((seq, dest, ack)),
        }
        if offered {
            let at = self.now + self.config.timers.t1 * 32;
            self.timers.arm(call, Timer::AnswerDue, at);
        }
        c.peer_norefersub = response
            .supported()
            .any(|t| t.eq_ignore_ascii_case("norefersub"));
        self.dialogs.insert(self.dialogs.hash(&dialog.id), call);
        for d in c.dialog.as_deref().into_iter().chain(&c.early) {
            self.early_dialogs
                .remove(self.early_dialogs.hash(&d.id), call);
        }
        c.dialog = Some(alloc::boxed::Box::new(dialog));
        // The first 2xx wins (§13.2.2.4): the other forks' early dialogs are over.
        c.early.clear();
        let kind = if offered {
            SdpKind::Offer
        } else {
            SdpKind::Answer
        };
        // A call being hung up takes no answer: its ACK refuses the offer, then the BYE.
        if !c.hangup_pending {
            self.remote_sdp(call, kind, response.status(), &response.body);
        }
        self.call_state(call, CallState::Confirmed, response.status());
        self.hangup_if_pending(call);
    }

    /// A 2xx to our INVITE that is not the call's (§13.2.2.4: "The UAC core MUST generate an
    /// ACK request for each 2xx received from the transaction layer"): a fork whose 2xx
    /// came before gets the same ACK again; else the ACK, refusing every stream when the 2xx
    /// offers (§13.2.1: its INVITE had none; RFC 3264 §6), and, when `bye` (another fork's:
    /// "the UAC MUST terminate the dialog by sending a BYE request"), the BYE, returned for
    /// the caller to send ([`Endpoint::send_fork_bye`]) once it has put `forks` back where
    /// they live: sending starts a transaction, and the endpoint then handles what else the
    /// same input brought (another fork's 2xx, over a stream) before it returns. Without
    /// `bye`, the 2xx of a call over comes again. A 2xx without a To tag makes no dialog
    /// to end and cannot be told from its copies: it is ACKed only.
    fn fork_2xx(
        &mut self,
        (seq, offerless): (u32, bool),
        forks: &mut Vec<(SipStr, Destination, Bytes)>,
        response: &Message,
        mut dialog: Dialog,
        bye: bool,
    ) -> Option<(Destination, super::Outgoing)> {
        let tag = response.to().and_then(|t| t.tag());
        let known = tag.and_then(|tag| forks.iter().find(|f| f.0.as_str() == tag));
        if let Some((_, dest, ack)) = known.cloned() {
            self.out.retransmissions += 1;
            self.send_to(dest, None, ack);
            return None;
        }
        let refusal =
            (offerless && !response.body.is_empty()).then(|| sdp::refusal(&response.body));
        let dest = dialog.destination();
        let (local, pool) = (self.config.local_addr, &mut self.layer.pool);
        let ids = &mut self.ids;
        let ack = ack_in(
            &mut dialog,
            seq,
            dest.transport,
            local,
            ids,
            pool,
            refusal.as_ref(),
        );
        self.send_to(dest, None, ack.clone());
        if !bye {
            self.out.retransmissions += 1;
            return None;
        }
        // A 2xx without a To tag: ACKed only.
        let tag = tag?;
        if forks.len() < MAX_EARLY {
            forks.push((SipStr::from(tag), dest, ack));
        }
        if !self.make_room() {
            return None;
        }
        let (_, dest, bye) = bye_in(
            &mut dialog,
            self.config.local_addr,
            &mut self.ids,
            &mut self.layer,
        );
        Some((dest, bye))
    }

    /// Sends the BYE [`Endpoint::fork_2xx`] wrote, its answer not the application's.
    fn send_fork_bye(&mut self, bye: Option<(Destination, super::Outgoing)>) {
        if let Some((dest, bye)) = bye {
            let tx = self.send_outgoing(dest, bye);
            self.quiet.insert(tx, None);
        }
    }

    /// The INVITE transaction of a call timed out (Timer B): 408. A re-INVITE that timed
    /// out ends the dialog (§12.2.1.2).
    pub(super) fn call_timeout(&mut self, tx: TxId) -> bool {
        let Some(&call) = self.tx_calls.get(&tx) else {
            return false;
        };
        let c = self.calls.get_mut(&call);
        if let Some(c) = c.filter(|c| c.reinvite.as_ref().is_some_and(|r| r.tx == tx)) {
            c.reinvite = None;
            self.dialog_gone(call, 408);
            return true;
        }
        #[cfg(feature = "redirects")]
        if self.follow_redirect(call, tx, None, 408) {
            return true;
        }
        self.end_invite(tx, |_| EndReason::Timeout, 408)
    }

    /// `call`'s INVITE `old` was redirected ([`super::redirect`]): `new` sends it, with CSeq
    /// `seq`, to `dest`. The early dialogs of `old` ended with its final response (§12.3:
    /// a non-2xx final response terminates them).
    #[cfg(feature = "redirects")]
    pub(super) fn call_restarted(
        &mut self,
        call: CallId,
        old: TxId,
        new: TxId,
        seq: u32,
        dest: Destination,
    ) {
        self.tx_calls.remove(&old);
        self.tx_calls.insert(new, call);
        self.call_request_retried(call, old, new, seq);
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        c.dest = dest;
        let early = c
            .dialog
            .take()
            .into_iter()
            .map(|d| *d)
            .chain(c.early.drain(..));
        for d in early {
            let h = self.early_dialogs.hash(&d.id);
            self.early_dialogs.remove(h, call);
        }
    }

    /// A request of `call` on `old` was sent again (with credentials) as `new`, with CSeq
    /// number `seq`.
    pub(super) fn call_request_retried(&mut self, call: CallId, old: TxId, new: TxId, seq: u32) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.invite_tx == Some(old) {
            c.invite_tx = Some(new);
            if let Some(s) = c.sent_mut() {
                s.seq = seq;
            }
        }
        if let Some(r) = c.reinvite.as_mut().filter(|r| r.tx == old) {
            r.tx = new;
        }
    }

    /// Our Contact for requests in `call`'s dialog.
    pub(super) fn contact_for(&self, call: CallId) -> Option<NameAddr<SipStr>> {
        let transport = match self.calls.get(&call) {
            Some(c) => c.dest.transport,
            None => self.lingering.get(&call)?.peer.transport,
        };
        Some(NameAddr::new(self.local_uri(transport)))
    }

    /// `call`'s dialog, to build a request in it: the call's, or, once the call has ended,
    /// the dialog its subscriptions keep ([`Endpoint::lingering`]).
    pub(super) fn call_dialog(&mut self, call: CallId) -> Option<&mut Dialog> {
        dialog_of(&mut self.calls, &mut self.lingering, call)
    }

    /// The SDP we last sent in `call`.
    pub(super) fn call_local_sdp(&self, call: CallId) -> Option<Bytes> {
        self.calls.get(&call)?.local_sdp.clone()
    }

    /// The dialog whose CSeq space `tx` (a request of `call`) used: the call's dialog for a
    /// request within it (re-INVITE), none for the dialog-creating INVITE.
    pub(super) fn call_dialog_mut(&mut self, call: CallId, tx: TxId) -> Option<&mut Dialog> {
        let c = self.calls.get_mut(&call)?;
        if c.invite_tx == Some(tx) {
            return None;
        }
        c.dialog.as_deref_mut()
    }

    /// The dialogs of a call: the confirmed one, or every early one (one per fork that
    /// answered with a To tag, §13.2.2.4).
    pub fn dialogs(&self, call: CallId) -> impl Iterator<Item = &Dialog> + '_ {
        self.calls
            .get(&call)
            .into_iter()
            .flat_map(|c| c.dialog.as_deref().into_iter().chain(&c.early))
    }

    /// Live calls with a dialog (for [`crate::Stats`]).
    pub(super) fn dialog_count(&self) -> usize {
        self.dialogs.len() + self.lingering.len() + self.sub_dialogs.len()
    }

    /// The call whose dialog is `id` (the index holds the id's hash; the call's dialog, the
    /// id, §12).
    pub(super) fn dialog_call(&self, id: DialogKey<'_>) -> Option<CallId> {
        self.indexed_call(&self.dialogs, id, false)
    }

    /// Our own pending INVITE with the early dialog `id` (RFC 3891 §3: a Replaces may name
    /// it): its call's first dialog or one of the other forks'.
    pub(super) fn early_dialog_call(&self, id: DialogKey<'_>) -> Option<CallId> {
        self.indexed_call(&self.early_dialogs, id, true)
    }

    /// The call under `id`'s hash in `index` whose dialog (or, with `forks`, one of its
    /// other early dialogs) is `id`.
    fn indexed_call(
        &self,
        index: &crate::hashed::Index<CallId>,
        id: DialogKey<'_>,
        forks: bool,
    ) -> Option<CallId> {
        index.find(index.hash(&id), |call| {
            self.calls.get(&call).is_some_and(|c| {
                let forks = if forks { &c.early[..] } else { &[] };
                c.dialog
                    .as_deref()
                    .into_iter()
                    .chain(forks)
                    .any(|d| id.is(&d.id))
            })
        })
    }

    /// The dialog of a call, if it has one.
    pub fn dialog(&self, call: CallId) -> Option<&Dialog> {
        self.calls.get(&call)?.dialog.as_deref()
    }

    /// Is this id a live call?
    pub fn call_is_live(&self, call: CallId) -> bool {
        self.calls.contains_key(&call)
    }

    /// The live calls (every state but terminated), in the order they were created.
    pub fn calls(&self) -> impl Iterator<Item = CallId> + '_ {
        self.calls.keys().copied()
    }
}

fn sdp_type() -> MediaType<SipStr> {
    MediaType {
        ty: SipStr::from_static("application"),
        subtype: SipStr::from_static("sdp"),
        params: Params::default(),
    }
}

impl Endpoint {
    /// A 2xx to an INVITE whose transaction is gone (RFC 6026: after Timer M): the call's
    /// ACK again if it is ours. Other stray responses are ignored.
    pub(super) fn stray_2xx(&mut self, response: &Message) {
        let invite_2xx = matches!(response.status(), Some(200..=299))
            && response.cseq().is_some_and(|c| c.method == Method::Invite);
        if !invite_2xx {
            return;
        }
        let Some(call) = DialogKey::of_response(response).and_then(|k| self.dialog_call(k)) else {
            return;
        };
        let seq = response.cseq().map(|c| c.seq);
        let ack = self.calls.get(&call).and_then(|c| c.ack.clone());
        if let Some((_, dest, ack)) = ack.filter(|a| Some(a.0) == seq) {
            self.out.retransmissions += 1;
            self.send_to(dest, None, ack);
        }
    }
}

/// The ACK of a 2xx in `d` with CSeq `seq` (§13.2.2.4), under a Via of ours for `transport`
/// from `local` with a fresh branch: written straight from the dialog
/// ([`Dialog::ack_bytes`]), or built as a request when it cannot be — the same bytes. A
/// buffer of its own: the call keeps it for as long as the 2xx may be repeated, 64·T1 at
/// most (Timer M, RFC 6026 §7.2), but no longer than the call — a short call frees it at
/// its end, where cut from a block of 64·T1 messages it would stay that long (at 1 000
/// short calls a second, +10 MB resident: BENCHMARKS.md, "Twenty-third round"; see
/// `Config::send_block`). (Kept past the call, to Timer M, only where it cannot be written
/// again: an ACK that carried the application's answer, and a losing fork's — see
/// [`Orphan::Invite`].)
fn ack_in(
    d: &mut Dialog,
    seq: u32,
    transport: crate::Transport,
    local: core::net::SocketAddr,
    ids: &mut crate::rand::IdGen,
    pool: &mut HeaderPool,
    answer: Option<&Bytes>,
) -> Bytes {
    let branch = ids.branch();
    let via = OurVia {
        transport,
        addr: local,
        branch: branch.as_str(),
    };
    let via = &via;
    if answer.is_none() {
        if let Some(bytes) = d.ack_bytes(seq, via) {
            return bytes;
        }
    }
    let mut ack = d.request_in(Method::Ack, Some(seq), None, pool.take(MIN));
    ack.headers.insert(0, via.field());
    // An answer to the 2xx's offer (RFC 3261 §13.2.2.4), the rare ACK with a body.
    if let Some(sdp) = answer {
        ack.headers.push(Header::ContentType(sdp_type()));
        ack.body = sdp.clone();
    }
    let bytes = ack.to_bytes();
    pool.recycle(ack);
    bytes
}

/// [`Endpoint::call_dialog`] from the tables it looks in (so that the endpoint's other
/// parts stay at hand while it is borrowed).
pub(super) fn dialog_of<'a>(
    calls: &'a mut crate::slab::Slab<CallId, Call>,
    lingering: &'a mut alloc::collections::BTreeMap<CallId, alloc::boxed::Box<Dialog>>,
    call: CallId,
) -> Option<&'a mut Dialog> {
    match calls.get_mut(&call) {
        Some(c) => c.dialog.as_deref_mut(),
        None => lingering.get_mut(&call).map(|d| &mut **d),
    }
}

/// A BYE in `d` (RFC 3261 §15.1.1) with the dialog's next CSeq number: that number, where
/// it goes, and the request.
fn bye_in(
    d: &mut Dialog,
    local: core::net::SocketAddr,
    ids: &mut crate::rand::IdGen,
    layer: &mut Layer,
) -> (u32, Destination, super::Outgoing) {
    let r = crate::msg::emit::InDialog {
        method: Method::Bye,
        contact: None,
        fields: &[],
        body: &[],
    };
    super::in_dialog(d, &r, local, ids, layer)
}

#[cfg(test)]
mod tests {
    /// A call lives in the endpoint's slab: the room of its dialog is not in it (see
    /// `Call::dialog`), nor that of what a UAC's INVITE said (`Call::sent`).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_call_stays_small() {
        assert!(core::mem::size_of::<super::Call>() <= 464);
    }
}
