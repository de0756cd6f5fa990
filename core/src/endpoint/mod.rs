//! The [`Endpoint`]: the one public entry point of the state machines.
//!
//! Methods come in four groups (quinn-proto style): getters ([`Endpoint::stats`],
//! [`Endpoint::now`]), inputs (`handle_*`), commands (they take `now` because they arm
//! timers, and return a typed id or a typed [`Error`]) and outputs (`poll_*`). See the crate
//! documentation for the run loop.
//!
//! The endpoint is the hub: `calls` (INVITE sessions) and `transfer` (the RFC 5589 roles,
//! over the [`crate::subscription`] layer) each do their part, and this module passes what
//! one needs to hear from the other (a call's state, the end of a hold, requests in a call's
//! dialog that belong to a transfer, timers), so that neither depends on the other's
//! internals.

mod calls;
mod challenge;
#[cfg(feature = "redirects")]
mod redirect;
mod replaces;
mod timers;
mod transfer;
mod uas;

use calls::Call;
pub use calls::{CallId, CallOptions, CallState, EndReason, SdpKind};
pub use transfer::{AttendedOptions, BlindOptions, ByeBy, Transfer, TransferId, TransferOutcome};

use crate::config::Config;
use crate::error::Error;
use crate::hashed::{Ids, Keys, Table};
use crate::msg::{builder, Header, Message, Method, Via};
use crate::parse::StreamDecoder;
use crate::rand::IdGen;
use crate::text::SipStr;
use crate::time::Instant;
use crate::transaction::{
    CancelError, Incoming, Layer, Outbox, RespondError, State, TxEvent, TxId,
};
use crate::transport::{ConnId, Destination, Source, Transmit, Transport};
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use bytes::Bytes;
use core::net::SocketAddr;

/// A request of ours, ready for its client transaction.
pub(crate) enum Outgoing {
    /// Written straight from its parts (a dialog, a call's), with its client key (§17.1.3)
    /// and whether it is an INVITE.
    Written(Bytes, crate::transaction::ClientKey, bool),
    /// Built as a request (what cannot be written so), our Via on top.
    Built(Message),
}

impl Outgoing {
    /// Request `r` under `via`: `written`, its bytes when they could be written straight,
    /// with the client key of `via`'s branch and `r`'s method (§17.1.3); else the request
    /// `build` makes, our Via put on top.
    fn of(
        written: Option<Bytes>,
        r: &crate::msg::emit::InDialog<'_>,
        via: &crate::msg::emit::OurVia<'_>,
        build: impl FnOnce() -> Message,
    ) -> Self {
        match written {
            Some(bytes) => {
                let key = crate::transaction::ClientKey::new(via.branch, r.method.as_str());
                Outgoing::Written(bytes, key, r.method == Method::Invite)
            }
            None => {
                let mut m = build();
                m.headers.insert(0, via.field());
                Outgoing::Built(m)
            }
        }
    }
}

/// Request `r` within dialog `d`, with the dialog's next CSeq number (RFC 3261 §12.2.1.1),
/// to where the dialog's requests go, under our Via from `local` with a fresh branch:
/// written straight from the dialog ([`crate::dialog::Dialog::request_bytes`]), or built as
/// the same bytes when it cannot be. The CSeq number, the destination and the request.
pub(crate) fn in_dialog(
    d: &mut crate::dialog::Dialog,
    r: &crate::msg::emit::InDialog<'_>,
    local: SocketAddr,
    ids: &mut IdGen,
    layer: &mut Layer,
) -> (u32, Destination, Outgoing) {
    d.local_seq = d.local_seq.wrapping_add(1);
    let (seq, dest) = (d.local_seq, d.destination());
    let branch = ids.branch();
    let via = crate::msg::emit::OurVia {
        transport: dest.transport,
        addr: local,
        branch: branch.as_str(),
    };
    let written = d.request_bytes(r, seq, &via, &mut layer.sent_once);
    let request = Outgoing::of(written, r, &via, || {
        let list = layer.pool.take(crate::msg::pool::MIN);
        let mut m = d.request_in(r.method.clone(), Some(seq), r.contact, list);
        m.headers.extend(r.fields.iter().cloned());
        m.body = Bytes::copy_from_slice(r.body);
        m
    });
    (seq, dest, request)
}

/// What the endpoint tells the application.
// Events are built once and moved to the application; boxing the large variants would cost
// an allocation per event for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Event {
    /// A request the endpoint does not answer on its own. Answer it with
    /// [`Endpoint::respond`] (build the response with [`Endpoint::response`]).
    Request {
        /// Its server transaction.
        tx: TxId,
        /// The request as received. The `received`/`rport` of RFC 3261 §18.2.1 and RFC 3581
        /// go into the responses' top Via ([`Endpoint::response`], [`Endpoint::respond`]).
        request: Message,
        /// Where it came from.
        source: Source,
    },
    /// An ACK that no transaction absorbed: the ACK of a 2xx (RFC 3261 §13.3.1.4, §17.2.3).
    Ack {
        /// The ACK.
        request: Message,
        /// Where it came from.
        source: Source,
    },
    /// A response to a request sent with [`Endpoint::send_request`]: each provisional, the
    /// final, and retransmitted 2xx to an INVITE (RFC 6026; the application ACKs each).
    Response {
        /// The client transaction.
        tx: TxId,
        /// The response.
        response: Message,
    },
    /// No final response in time (Timer B or F, 64·T1): to be treated as a 408 (RFC 3261
    /// §8.1.3.1).
    Timeout {
        /// The client transaction.
        tx: TxId,
    },
    /// No final response within Timer C while Proceeding: the endpoint has sent a CANCEL.
    InviteCancelled {
        /// The client INVITE transaction.
        tx: TxId,
    },
    /// The ACK for a non-2xx final response never came (Timer H, §17.2.1).
    NoAck {
        /// The server INVITE transaction.
        tx: TxId,
    },
    /// A new call (an INVITE outside any dialog that passed the checks of RFC 3261 §8.2).
    /// Answer with [`Endpoint::answer`], [`Endpoint::ring`] or [`Endpoint::reject`].
    IncomingCall {
        /// The call.
        call: CallId,
        /// The call this one replaces (an INVITE with `Replaces`, RFC 3891 §3, checked: the
        /// named dialog is ours, confirmed — or early and ours to replace). Answering the new
        /// call ends that one ([`EndReason::Replaced`]); rejecting it leaves it as it is.
        replaces: Option<CallId>,
        /// The INVITE.
        request: Message,
        /// Its SDP offer, if it has a body (opaque to the core).
        offer: Option<Bytes>,
        /// Its Referred-By (RFC 3892), when the call comes from a transfer.
        referred_by: Option<crate::msg::NameAddr<SipStr>>,
        /// Where it came from.
        source: Source,
    },
    /// The peer sent a session description for a call (opaque to the core): an answer to
    /// our offer, or an offer (RFC 3261 §13.2.1, §14; RFC 3264). Reported once per message
    /// that carries one (not again for a retransmission), before the [`Event::CallState`]
    /// the same message causes:
    /// - the answer in each provisional response with a body (early media; §13.2.1: the
    ///   same answer as the 2xx's; with forking, each fork's, not told apart), then the
    ///   answer in the 2xx to our INVITE — or its offer when our INVITE had none
    ///   ([`CallOptions::offer`] `None`; answer it with [`Endpoint::answer`], which sends
    ///   the ACK with it, §13.2.2.4);
    /// - the offer of each re-INVITE the endpoint answers 200 on its own (a new media
    ///   address or direction, as a PBX sends after a transfer), and the answer in the ACK of
    ///   a 2xx where the endpoint offered (a re-INVITE without an offer, §14.2);
    /// - the answer in the 2xx to our re-INVITE ([`Endpoint::hold`], [`Endpoint::resume`],
    ///   [`Endpoint::reinvite`]);
    /// - the answer in the ACK of our 2xx to an INVITE that had no offer
    ///   ([`Event::IncomingCall`] with `offer: None`).
    ///
    /// Not reported: the offer of a new call (it comes in [`Event::IncomingCall`]); an offer
    /// the endpoint refuses (a re-INVITE answered 491, 500 or 488); the offer or answer in
    /// the 2xx of a fork that loses (§13.2.2.4: ACKed — an offer with every stream refused
    /// — then BYEd) or of a call being hung up (the same); a body in a provisional response
    /// to an INVITE without an offer (§13.2.1: an unreliable provisional response carries
    /// no offer).
    RemoteSdp {
        /// The call.
        call: CallId,
        /// Offer or answer.
        kind: SdpKind,
        /// The status of the response that carried it (183, 200, ...); `None` for a request
        /// (a re-INVITE, an ACK).
        status: Option<u16>,
        /// The body as received (normally `application/sdp`).
        sdp: Bytes,
    },
    /// A call changed state; `status` is the SIP status that caused it, when one did.
    CallState {
        /// The call.
        call: CallId,
        /// Its new state.
        state: CallState,
        /// The status code behind the change (180, 200, 486, 408, ...).
        status: Option<u16>,
    },
    /// A call we placed was redirected (RFC 3261 §8.1.3.4): its INVITE goes again, to
    /// `target`, the next URI of its target set ([`Config::max_redirects`]). `status` is the
    /// response that moved it on: the 3xx whose Contact named `target`, or the failure of the
    /// target tried before (400–599; 408 for no answer, 503 for an unreachable one). A [`Event::CallState`] `Calling`
    /// with that status follows.
    CallRedirected {
        /// The call.
        call: CallId,
        /// The 3xx, or the failure of the target before.
        status: u16,
        /// The Request-URI of the new INVITE.
        target: crate::msg::Uri<SipStr>,
    },
    /// A request the endpoint sent on its own behalf (a call's INVITE or re-INVITE, a BYE,
    /// ...) was challenged (401/407) and could not be retried: no credentials for the
    /// realm in [`Config::credentials`], an unsupported algorithm, or the same nonce
    /// challenged again (the credentials are wrong). The request fails with that response.
    AuthFailed {
        /// The call the request belonged to, if any.
        call: Option<CallId>,
        /// The request's method.
        method: crate::msg::Method<SipStr>,
        /// 401 or 407.
        status: u16,
        /// The challenge's realm, when there was a challenge we could read.
        realm: Option<SipStr>,
    },
    /// A REFER in a call's dialog passed the checks (exactly one SIP `Refer-To`, RFC 3515
    /// §2.4.2): nothing is answered yet. Answer with [`Endpoint::accept_transfer`] or
    /// [`Endpoint::reject_transfer`].
    IncomingTransfer {
        /// The transfer.
        transfer: TransferId,
        /// The call the REFER came in.
        call: CallId,
        /// Where to (the `Refer-To`, with any embedded headers as sent).
        target: crate::msg::NameAddr<SipStr>,
        /// `Referred-By` (RFC 3892), if any.
        referred_by: Option<crate::msg::NameAddr<SipStr>>,
        /// The `Replaces` embedded in the `Refer-To` (attended transfer, RFC 3891), if any.
        replaces: Option<crate::msg::Replaces<SipStr>>,
        /// `false` when the REFER carried `Refer-Sub: false` (RFC 4488): no NOTIFYs.
        refer_sub: bool,
    },
    /// A NOTIFY of a transfer we started reported a status (RFC 3515 §2.4.5).
    TransferProgress {
        /// The transfer.
        transfer: TransferId,
        /// The sipfrag's status code.
        status: u16,
        /// The sipfrag's status line (`SIP/2.0 180 Ringing`).
        status_line: SipStr,
    },
    /// A transfer ended (reported once per transfer, in either role).
    TransferOutcome {
        /// The transfer.
        transfer: TransferId,
        /// How.
        outcome: TransferOutcome,
    },
    /// A CANCEL matched this INVITE server transaction before its final response: the
    /// endpoint answered the CANCEL 200 and the INVITE 487 (RFC 3261 §9.2).
    Cancelled {
        /// The server INVITE transaction.
        tx: TxId,
    },
}

/// Counters, and what is live now. Every malformed message is counted here, never surfaced
/// as an error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Messages received (datagrams and framed stream messages).
    pub messages_in: u64,
    /// Messages sent (including retransmissions).
    pub messages_out: u64,
    /// Retransmissions sent (requests, responses, ACKs).
    pub retransmissions: u64,
    /// Received messages that did not parse (requests and responses).
    pub parse_errors: u64,
    /// Malformed requests answered (400, 505, 513).
    pub malformed_requests_answered: u64,
    /// Malformed responses, and malformed requests that could not be answered, dropped.
    pub malformed_dropped: u64,
    /// Well-formed responses that matched no transaction, dropped.
    pub stray_responses: u64,
    /// Requests refused because [`Config::max_transactions`] were live (503).
    pub overload_rejections: u64,
    /// Transactions that only lingered to absorb retransmissions, ended early to make room
    /// for a new one at [`Config::max_transactions`].
    pub overload_evictions: u64,
    /// Requests answered 482 as merged copies of one in progress (RFC 3261 §8.2.2.2: forked
    /// and come back by another path, or looped).
    pub merged_requests: u64,
    /// Stream connections closed for a framing error.
    pub stream_errors: u64,
    /// Client transactions ended by a transport failure ([`Endpoint::handle_unreachable`]).
    pub unreachable: u64,
    /// Requests bound for UDP sent over TCP for their size ([`Config::udp_request_limit`],
    /// RFC 3261 §18.1.1).
    pub sized_to_tcp: u64,
    /// Of those, requests sent over UDP after all because TCP could not reach their
    /// destination ([`Endpoint::handle_unreachable`], §18.1.1).
    pub back_to_udp: u64,
    /// Live transactions.
    pub transactions: usize,
    /// Armed timers.
    pub timers: usize,
    /// Tracked stream connections.
    pub connections: usize,
    /// Live dialogs (of calls).
    pub dialogs: usize,
    /// Live subscriptions (subscriptions arrive with the refer layer).
    pub subscriptions: usize,
}

/// A stream connection the runtime told us about.
#[derive(Clone, Debug)]
struct Conn {
    transport: Transport,
    local: SocketAddr,
    remote: SocketAddr,
    decoder: StreamDecoder,
}

/// A SIP endpoint (user agent) as a pure state machine. See the crate docs for the run loop.
///
/// `Clone` takes a snapshot: the copy continues independently from the same state (same
/// timers, same id generator), which is how the `dialog` fuzz target restores its fixture per
/// input and how a test can explore several futures of one state.
#[derive(Debug, Clone)]
pub struct Endpoint {
    config: Config,
    /// Our URI per transport (UDP, TCP, TLS), for Contact: built once.
    local_uris: [crate::msg::Uri<SipStr>; 3],
    now: Instant,
    ids: IdGen,
    layer: Layer,
    out: Outbox,
    events: VecDeque<Event>,
    conns: BTreeMap<ConnId, Conn>,
    stats: Stats,
    /// Server transactions: the To tag their responses carry (§8.2.6.2: one per transaction).
    tags: Ids<TxId, SipStr>,
    /// Calls, side by side in a [`crate::slab`] (starting one allocates nothing once the
    /// slab has grown to the load; a map of boxes allocated one per call).
    calls: crate::slab::Slab<CallId, Call>,
    /// Calls by the id of their dialog ([`Endpoint::dialog_call`]): the id's hash and the
    /// call, 16 bytes an entry, the id itself being the call's dialog's (a
    /// [`crate::hashed::Index`]; the other tables keyed by dialog ids hold the ids: a peer
    /// chooses them, hence the keyed hash of [`crate::hashed`]). An entry with the id was
    /// 112 bytes, written to a cold bucket for every call.
    dialogs: crate::hashed::Index<CallId>,
    /// Client or server INVITE transactions of calls.
    tx_calls: Ids<TxId, CallId>,
    /// Transactions the endpoint started on its own (BYE, ...): their outcome is not
    /// reported. A BYE of a call's carries what sending it again takes
    /// ([`Endpoint::bye_answered`]).
    quiet: Ids<TxId, Option<calls::Bye>>,
    /// The BYE still unanswered of each ended call whose dialog lingers: what the dialog
    /// sends meanwhile raises the CSeq that BYE would go again with, and the dialog lingers
    /// until the BYE is answered or given up, its subscriptions gone or not
    /// ([`Endpoint::bye_ended`]).
    lingering_byes: Ids<CallId, TxId>,
    /// The UA core's timers (the transactions keep their own).
    timers: timers::Timers,
    /// Digest: the nonces each request chain answered (keyed by its latest transaction).
    auth_trails: BTreeMap<TxId, challenge::Trail>,
    /// Digest: the last nonce per realm and how many requests used it (RFC 7616 §3.4).
    nonce_counts: BTreeMap<SipStr, (SipStr, u32)>,
    /// Transfers in either role, and their indexes: by call and by transaction (the call a
    /// transferee placed names its transfer itself: `Call::for_transfer`).
    transfers: Ids<TransferId, alloc::boxed::Box<transfer::Xfer>>,
    call_xfers: BTreeSet<(CallId, TransferId)>,
    tx_transfers: Ids<TxId, TransferId>,
    next_transfer: u64,
    /// Live incoming calls per remote address ([`Config::max_calls_per_remote`]).
    calls_per_remote: BTreeMap<core::net::IpAddr, usize>,
    /// The early dialogs of our own pending INVITEs (an INVITE with Replaces may name one,
    /// RFC 3891 §3), an index as `dialogs` is: the ids are the calls' early dialogs'
    /// ([`Endpoint::early_dialog_call`]).
    early_dialogs: crate::hashed::Index<CallId>,
    /// Dialogs ended recently, for RFC 3891 §3's 603 to a Replaces naming one.
    ended: replaces::Ended,
    /// The dialogs out-of-dialog REFERs created (RFC 4538), each its transfer's.
    sub_dialogs: Table<crate::dialog::DialogId, TransferId>,
    /// The dialogs of ended calls whose refer subscriptions live on (RFC 5057 §5.1: a BYE
    /// ends the invite usage; the subscription usages keep the dialog), by call, and the
    /// index from their ids.
    lingering: BTreeMap<CallId, alloc::boxed::Box<crate::dialog::Dialog>>,
    lingering_ids: Table<crate::dialog::DialogId, CallId>,
    /// INVITE transactions that outlive their calls, by transaction ([`calls::Orphan`]): the
    /// INVITEs of calls that ended while a 2xx could still come (RFC 6026 §7.2), and
    /// re-INVITEs of calls that ended before their answer (RFC 5407 §3.2.3).
    orphans: BTreeMap<TxId, alloc::boxed::Box<calls::Orphan>>,
    next_call: u64,
}

impl Endpoint {
    /// An endpoint with `config`, its clock starting at `now`.
    pub fn new(config: Config, now: Instant) -> Self {
        let keys = Keys::from_seed(config.seed);
        Endpoint {
            ids: IdGen::new(config.seed),
            layer: Layer::new(config.timers, config.send_block, config.header_lists, keys)
                .with_udp_request_limit(config.udp_request_limit),
            local_uris: Self::local_uris(config.local_addr),
            config,
            now,
            out: Outbox::default(),
            events: VecDeque::new(),
            conns: BTreeMap::new(),
            stats: Stats::default(),
            tags: Ids::default(),
            calls: crate::slab::Slab::default(),
            dialogs: crate::hashed::Index::new(keys),
            tx_calls: Ids::default(),
            quiet: Ids::default(),
            lingering_byes: Ids::default(),
            timers: timers::Timers::default(),
            calls_per_remote: BTreeMap::new(),
            early_dialogs: crate::hashed::Index::new(keys),
            ended: replaces::Ended::new(keys),
            sub_dialogs: Table::new(keys),
            orphans: BTreeMap::new(),
            lingering: BTreeMap::new(),
            lingering_ids: Table::new(keys),
            transfers: Ids::default(),
            call_xfers: BTreeSet::new(),
            tx_transfers: Ids::default(),
            next_transfer: 1,
            auth_trails: BTreeMap::new(),
            nonce_counts: BTreeMap::new(),
            next_call: 1,
        }
    }

    // ----- getters -----

    /// Counters and live resources.
    pub fn stats(&self) -> Stats {
        let mut s = self.stats;
        s.messages_out = self.out.sent;
        s.retransmissions = self.out.retransmissions;
        s.sized_to_tcp = self.out.sized_to_tcp;
        s.back_to_udp = self.out.back_to_udp;
        s.transactions = self.layer.len();
        s.timers = self.layer.timer_count();
        s.connections = self.conns.len();
        s.dialogs = self.dialog_count();
        s.subscriptions = self.subscription_count();
        s.timers += self.timers.len();
        s
    }

    /// Transactions whose request still waits for its final response, sent or received
    /// (RFC 3261 §17: Calling, Trying, Proceeding). Those that only linger to absorb
    /// retransmissions (Completed, Confirmed, Accepted) are not counted. A runtime shutting
    /// down gracefully waits for this (and [`Endpoint::calls`]) to reach zero. O(transactions).
    pub fn pending_transactions(&self) -> usize {
        self.layer.pending()
    }

    /// The latest time the endpoint was given.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    // ----- inputs -----

    /// A datagram arrived on `local` from `remote`.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        transport: Transport,
        remote: SocketAddr,
        local: SocketAddr,
        bytes: Bytes,
    ) {
        self.tick(now);
        let source = Source {
            transport,
            remote,
            local,
            conn: None,
        };
        self.receive(source, bytes);
        self.flush();
    }

    /// The runtime opened or accepted stream connection `conn`.
    pub fn handle_connection_opened(
        &mut self,
        now: Instant,
        conn: ConnId,
        transport: Transport,
        local: SocketAddr,
        remote: SocketAddr,
    ) {
        self.tick(now);
        if self.conns.len() >= self.config.max_connections && !self.conns.contains_key(&conn) {
            self.out
                .transmits
                .push_back(Transmit::close(transport, local, remote, conn));
            return;
        }
        self.conns.insert(
            conn,
            Conn {
                transport,
                local,
                remote,
                decoder: StreamDecoder::new(self.config.limits),
            },
        );
    }

    /// Stream connection `conn` closed (by the peer or the runtime). A request sent over TCP
    /// only for its size ([`Config::udp_request_limit`]) that has no answer yet from the
    /// connection's remote end goes over UDP after all, in the same transaction, as when the
    /// connection could not be opened (RFC 3261 §18.1.1: "results in a TCP reset"): the peer
    /// may have read it, and then takes the UDP copy, of the same branch, for a
    /// retransmission (§17.2.3).
    pub fn handle_connection_closed(&mut self, now: Instant, conn: ConnId) {
        self.tick(now);
        if let Some(c) = self.conns.remove(&conn) {
            if c.transport == Transport::Tcp {
                self.layer
                    .connection_lost(self.now, c.remote, &mut self.out);
                self.flush();
            }
        }
    }

    /// The runtime could not reach `remote` over `transport` — a stream connection to it
    /// could not be opened (refused, unreachable, timed out), so what was written to it is
    /// lost. Every client transaction to `remote` still waiting for its first response ends
    /// at once with a 503 made by the endpoint (RFC 3261 §8.1.3.1: a fatal transport error
    /// "MUST be treated as a 503 (Service Unavailable) status code"; §17.1.4), instead of
    /// waiting 64·T1 for Timer B or F: a call fails with [`EndReason::Rejected`] and 503, a
    /// transfer's REFER fails, a request of [`Endpoint::send_request`] gets
    /// [`Event::Response`] with that 503 ([`Event::Timeout`] if the request does not parse
    /// back — a header field the parser refuses, a singleton field twice — so that no
    /// response can be made from it). Counted in [`Stats::unreachable`]. A request that went
    /// over TCP only for its size ([`Config::udp_request_limit`]) goes over UDP instead, in the
    /// same transaction (RFC 3261 §18.1.1), counted in [`Stats::back_to_udp`]; an ACK sent
    /// so by [`Endpoint::send_ack`] is not a transaction and is not sent again.
    ///
    /// ```
    /// use sipxfer::msg::{builder::RequestBuilder, Method, NameAddr, Uri};
    /// use sipxfer::{Config, Destination, Endpoint, Event, Instant, Transport};
    ///
    /// let (alice, bob) = ("192.0.2.1:5060".parse().unwrap(), "192.0.2.2:5060".parse().unwrap());
    /// let now = Instant::ZERO;
    /// let mut ep = Endpoint::new(Config::new(alice, [1; 32]), now);
    /// let to = Uri::parse("sip:bob@192.0.2.2").unwrap();
    /// let options = RequestBuilder::new(Method::Options, to.clone())
    ///     .from(NameAddr::new(Uri::parse("sip:alice@192.0.2.1").unwrap()), "a1")
    ///     .to(NameAddr::new(to))
    ///     .call_id("unreachable-1")
    ///     .cseq(1)
    ///     .build();
    /// let tx = ep.send_request(now, Destination::tcp(bob), options).unwrap();
    /// while ep.poll_transmit().is_some() {}
    /// // The runtime could not connect to bob.
    /// ep.handle_unreachable(now, Transport::Tcp, bob);
    /// assert!(matches!(ep.poll_event(), Some(Event::Response { tx: t, response })
    ///     if t == tx && response.status() == Some(503)));
    /// ```
    pub fn handle_unreachable(&mut self, now: Instant, transport: Transport, remote: SocketAddr) {
        self.tick(now);
        let n = self
            .layer
            .unreachable(self.now, transport, remote, &mut self.out);
        self.stats.unreachable += n as u64;
        self.flush();
    }

    /// Bytes arrived on stream connection `conn` (framed by Content-Length, RFC 3261 §18.3;
    /// CRLF keep-alives skipped, RFC 5626 §3.5.1). Bytes for a connection the endpoint was not
    /// told about are ignored. A framing error answers the request if it can, then asks the
    /// runtime to close the connection (a [`Transmit`] with `close_after`).
    pub fn handle_stream_bytes(&mut self, now: Instant, conn: ConnId, bytes: &[u8]) {
        self.tick(now);
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.decoder.push(bytes);
        let source = Source {
            transport: c.transport,
            remote: c.remote,
            local: c.local,
            conn: Some(conn),
        };
        while let Some(c) = self.conns.get_mut(&conn) {
            match c.decoder.next_message() {
                Ok(Some(msg)) => self.receive(source, msg),
                Ok(None) => break,
                Err(e) => {
                    let failed = c.decoder.failed_bytes().clone();
                    self.conns.remove(&conn);
                    self.stats.stream_errors += 1;
                    self.stats.messages_in += 1;
                    self.malformed(source, &failed, e);
                    self.out.transmits.push_back(Transmit::close(
                        source.transport,
                        source.local,
                        source.remote,
                        conn,
                    ));
                    break;
                }
            }
        }
        self.flush();
    }

    /// Time has reached `now`: fires every timer due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
        self.layer.handle_timeout(self.now, &mut self.out);
        self.ua_timeouts();
        self.flush();
        self.release_if_idle();
    }

    /// With no call, transaction or transfer left, gives back the nodes the empty maps still
    /// hold (a map keeps its root node when its last entry goes), so that an endpoint at rest
    /// holds what a new one does. Cheap when there is nothing to give back.
    fn release_if_idle(&mut self) {
        fn fresh<K: Ord, V>(m: &mut BTreeMap<K, V>) {
            if m.is_empty() {
                *m = BTreeMap::new();
            }
        }
        fn fresh_set<K: Ord>(m: &mut BTreeSet<K>) {
            if m.is_empty() {
                *m = BTreeSet::new();
            }
        }
        // The transaction layer on its own: with calls up and idle, no transaction may be
        // left either.
        self.layer.release_if_idle();
        if !(self.calls.is_empty() && self.transfers.is_empty() && self.layer.len() == 0) {
            return;
        }
        self.calls.clear_if_empty();
        fresh(&mut self.auth_trails);
        fresh_set(&mut self.call_xfers);
        fresh(&mut self.calls_per_remote);
        fresh(&mut self.orphans);
        fresh(&mut self.lingering);
        fresh(&mut self.conns);
    }

    // ----- commands -----

    /// Sends `request` in a new client transaction to `dest`. The endpoint adds the top Via
    /// (`SIP/2.0/<transport> <local_addr>;branch=z9hG4bK…;rport`, RFC 3261 §8.1.1.7, RFC 3581);
    /// everything else is the caller's (see [`crate::msg::builder::RequestBuilder`]), and
    /// must include From, To, Call-ID and a CSeq naming the request's method (§8.1.1, else
    /// [`Error::InvalidMessage`]). Responses come back as [`Event::Response`], or
    /// [`Event::Timeout`]. A request bound for UDP and larger than
    /// [`Config::udp_request_limit`] goes over TCP, its Via saying so (RFC 3261 §18.1.1).
    pub fn send_request(
        &mut self,
        now: Instant,
        dest: Destination,
        request: Message,
    ) -> Result<TxId, Error> {
        self.tick(now);
        match request.method() {
            None => return Err(Error::InvalidMessage("not a request")),
            Some(Method::Ack) => return Err(Error::InvalidMessage("ACK: use send_ack")),
            Some(Method::Cancel) => return Err(Error::InvalidMessage("CANCEL: use cancel")),
            Some(_) => {}
        }
        if request.cseq().is_none() || request.call_id().is_none() {
            return Err(Error::InvalidMessage("CSeq and Call-ID are required"));
        }
        // RFC 3261 §8.1.1: From and To too, and §8.1.1.5: the CSeq's method is the request's
        // (a peer would answer 400; the CANCEL, the ACK of a non-2xx, a challenge's retry and
        // the 503 of an unreachable peer are made from what the request says).
        if request.from().is_none() || request.to().is_none() {
            return Err(Error::InvalidMessage("From and To are required"));
        }
        if let (Some(m), Some(c)) = (request.method(), request.cseq()) {
            if !m.same(&c.method) {
                return Err(Error::InvalidMessage(
                    "the CSeq method is not the request's",
                ));
            }
        }
        self.send_built(dest, request)
    }

    /// [`Endpoint::send_request`] for a request the endpoint built itself (an INVITE of
    /// [`Endpoint::call`] whose application fields it does not write itself), which has what
    /// that checks by construction.
    pub(crate) fn send_built(
        &mut self,
        dest: Destination,
        mut request: Message,
    ) -> Result<TxId, Error> {
        if !self.make_room() {
            return Err(Error::TooManyTransactions);
        }
        let branch = self.push_via(&mut request, dest.transport);
        // The key from the branch just drawn and the method (the CSeq's, by construction),
        // rather than read back from the request's fields.
        let key = request
            .method()
            .map(|m| crate::transaction::ClientKey::new(branch.as_str(), m.as_str()));
        let id = self
            .layer
            .start_client(self.now, dest, request, key, false, &mut self.out);
        self.flush();
        Ok(id)
    }

    /// Starts the client transaction of a request written or built for it (within a dialog:
    /// [`in_dialog`]; the INVITE of a call), the room for it made already
    /// ([`Endpoint::make_room`]).
    pub(crate) fn send_outgoing(&mut self, dest: Destination, request: Outgoing) -> TxId {
        let id = match request {
            Outgoing::Written(bytes, key, invite) => {
                self.layer
                    .start_client_written(self.now, dest, bytes, key, invite, &mut self.out)
            }
            Outgoing::Built(m) => {
                self.layer
                    .start_client(self.now, dest, m, None, false, &mut self.out)
            }
        };
        self.flush();
        id
    }

    /// Sends the ACK for a 2xx to an INVITE (RFC 3261 §13.2.2.4): not a transaction; the
    /// endpoint adds a Via with a new branch. An ACK bound for UDP and larger than
    /// [`Config::udp_request_limit`] (its body an answer) goes over TCP (§18.1.1), with no
    /// fallback to UDP: it is lost if the connection cannot be opened.
    pub fn send_ack(
        &mut self,
        now: Instant,
        dest: Destination,
        mut ack: Message,
    ) -> Result<(), Error> {
        self.tick(now);
        if ack.method() != Some(&Method::Ack) {
            return Err(Error::InvalidMessage("not an ACK"));
        }
        self.push_via(&mut ack, dest.transport);
        let bytes = ack.to_bytes_in(&mut self.layer.sent_once);
        let (dest, bytes) = self.ack_sized(dest, bytes);
        self.send_to(dest, None, bytes);
        Ok(())
    }

    /// An ACK with a large body goes over TCP as a large request does (RFC 3261 §18.1.1;
    /// `Config::udp_request_limit`): where `bytes` go, and with which Via. An ACK is no
    /// transaction: it has no fallback to UDP.
    pub(super) fn ack_sized(&mut self, dest: Destination, bytes: Bytes) -> (Destination, Bytes) {
        match self.layer.for_size(dest, &bytes) {
            Some(sized) => {
                self.out.sized_to_tcp += 1;
                sized
            }
            None => (dest, bytes),
        }
    }

    /// Cancels a client INVITE (RFC 3261 §9.1). The CANCEL is sent once a provisional
    /// response has arrived; the INVITE then ends with its final response (normally 487).
    pub fn cancel(&mut self, now: Instant, tx: TxId) -> Result<(), Error> {
        self.tick(now);
        let r = self.layer.cancel(self.now, tx, &mut self.out);
        self.flush();
        r.map_err(|e| match e {
            CancelError::NotInvite => Error::UnknownTransaction,
            CancelError::TooLate => Error::TooLateToCancel,
        })
    }

    /// A response to the request of server transaction `tx` (§8.2.6): Via, From, Call-ID,
    /// CSeq and To copied, the transaction's To tag added (the same in every response of the
    /// transaction). Add headers or a body, then send it with [`Endpoint::respond`].
    pub fn response(&mut self, tx: TxId, code: u16) -> Result<Message, Error> {
        self.layer
            .get(tx)
            .filter(|t| t.client_key().is_none())
            .ok_or(Error::UnknownTransaction)?;
        // A server transaction gives its request up once answered (`Layer::shed_finished`).
        self.layer.request(tx).ok_or(Error::AlreadyAnswered)?;
        let tag = self.tag_for(tx, code);
        let list = self.layer.pool.take(crate::msg::pool::MIN);
        let t = self.layer.get(tx).expect("checked");
        let request = self.layer.request(tx).expect("checked");
        let mut r = builder::response_in(request, code, tag.as_deref(), list);
        crate::transport::stamp_via(&mut r, t.dest.addr);
        if creates_dialog(request, code, tag.is_some()) {
            r.headers.extend(
                request
                    .headers
                    .iter()
                    .filter(|h| matches!(h, Header::RecordRoute(_)))
                    .cloned(),
            );
        }
        if let Some(ua) = &self.config.user_agent {
            r.headers.push(Header::Raw {
                name: crate::msg::HeaderName::Server,
                value: ua.clone(),
            });
        }
        Ok(r)
    }

    /// Sends `response` on server transaction `tx`; the transaction retransmits it as RFC
    /// 3261 §17.2 says.
    pub fn respond(&mut self, now: Instant, tx: TxId, response: Message) -> Result<(), Error> {
        self.tick(now);
        let r = self.respond_sent(tx, &response).map(drop);
        self.layer.pool.recycle(response);
        r
    }

    /// [`Endpoint::respond`] at the current time; the bytes sent.
    pub(crate) fn respond_sent(&mut self, tx: TxId, response: &Message) -> Result<Bytes, Error> {
        let r = self.layer.respond(self.now, tx, response, &mut self.out);
        self.flush();
        r.map_err(respond_error)
    }

    // ----- outputs -----

    /// The next message to send. Drain until `None` after every input and command.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        // Empty checked first, so that what is popped is returned as it is, not moved once
        // more through a local.
        if self.out.transmits.is_empty() {
            shrink(&mut self.out.transmits);
            return None;
        }
        self.out.transmits.pop_front()
    }

    /// The next event for the application. Drain until `None` after every input and command.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        // As `poll_transmit`: an event is ~600 bytes, one move of it less.
        if self.events.is_empty() {
            shrink(&mut self.events);
            return None;
        }
        self.events.pop_front()
    }

    /// When [`Endpoint::handle_timeout`] must be called next (`None`: no timer is armed).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let calls = self.timers.next();
        match (self.layer.poll_timeout(), calls) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ----- internals -----

    fn tick(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    /// Adds our top Via with a fresh branch; the branch.
    fn push_via(&mut self, m: &mut Message, transport: Transport) -> crate::rand::Id {
        let branch = self.ids.branch();
        let via = crate::msg::emit::OurVia {
            transport,
            addr: self.config.local_addr,
            branch: branch.as_str(),
        };
        m.headers.insert(0, via.field());
        branch
    }

    /// The To tag of server transaction `tx`'s responses (none for 100, §8.2.6.2).
    fn tag_for(&mut self, tx: TxId, code: u16) -> Option<SipStr> {
        let request = self.layer.request(tx)?;
        if request.to().and_then(|t| t.tag()).is_some() {
            return None;
        }
        if code == 100 {
            return None;
        }
        if let Some(tag) = self.tags.get(&tx) {
            return Some(tag.clone());
        }
        let tag = SipStr::from(self.ids.tag());
        self.tags.insert(tx, tag.clone());
        Some(tag)
    }

    /// One received message.
    fn receive(&mut self, source: Source, bytes: Bytes) {
        self.stats.messages_in += 1;
        // The header list from the pool; the datagram borrowed, not cloned (a clone of a
        // received buffer allocates its shared handle even when no string of the message
        // needs a slice of it).
        match Message::parse_in(&bytes, &self.config.limits, Some(&mut self.layer.pool)) {
            Ok(m) if m.is_request() => self.on_request(source, m),
            Ok(m) => {
                if let Some(m) = self.layer.on_response(self.now, m, &mut self.out) {
                    self.stats.stray_responses += 1;
                    self.stray_2xx(&m);
                }
            }
            Err(e) => self.malformed(source, &bytes, e),
        }
    }

    /// A message that did not parse: a request we can identify gets 400 (505 for another
    /// version, 513 when too large) statelessly; anything else is dropped. Both are counted.
    fn malformed(&mut self, source: Source, bytes: &[u8], e: crate::parse::ParseError) {
        self.stats.parse_errors += 1;
        match uas::answer_malformed(self, &source, bytes, e) {
            Some(t) => {
                self.stats.malformed_requests_answered += 1;
                self.out.send(t);
            }
            None => self.stats.malformed_dropped += 1,
        }
    }

    fn on_request(&mut self, source: Source, request: Message) {
        let reply_to = reply_destination(&source, request.top_via());
        let is_ack = request.method() == Some(&Method::Ack);
        if !is_ack
            && self.layer.len() >= self.config.max_transactions
            && !self.make_room_for(&request)
        {
            // Over the limit, nothing to end early: a stateless 503 (a retransmission of a
            // live transaction would have matched, so only new requests land here).
            self.stats.overload_rejections += 1;
            let list = self.layer.pool.take(crate::msg::pool::MIN);
            let mut r = builder::response_in(&request, 503, Some(&self.ids.tag()), list);
            crate::transport::stamp_via(&mut r, source.remote);
            r.headers.push(retry_after(5));
            let bytes = r.to_bytes_in(&mut self.layer.sent_once);
            self.send_to(reply_to, Some(source.local), bytes);
            self.layer.pool.recycle(r);
            self.layer.pool.recycle(request);
            return;
        }
        match self
            .layer
            .on_request(self.now, request, &source, reply_to, &mut self.out)
        {
            Incoming::Absorbed => {}
            Incoming::Ack(request) => {
                if self.call_ack(&request) {
                    self.layer.pool.recycle(request);
                } else {
                    self.events.push_back(Event::Ack { request, source })
                }
            }
            Incoming::New(tx) => self.new_request(tx, source),
        }
    }

    /// Room for one more transaction ([`Config::max_transactions`]), ending a lingering one
    /// early if need be (counted in [`Stats::overload_evictions`]).
    fn make_room(&mut self) -> bool {
        let full = self.layer.len() >= self.config.max_transactions;
        let room = self
            .layer
            .make_room(self.config.max_transactions, &mut self.out);
        if full && room {
            self.stats.overload_evictions += 1;
        }
        room
    }

    /// [`Endpoint::make_room`] for a received request, unless it is a retransmission of a
    /// live transaction (which needs none).
    fn make_room_for(&mut self, request: &Message) -> bool {
        self.layer.matches_server(request) || self.make_room()
    }

    fn send_to(&mut self, dest: Destination, local: Option<SocketAddr>, bytes: Bytes) {
        self.out.send(Transmit::new(dest, local, bytes));
    }

    /// A new server transaction: what the UA core answers itself (§8.2), or the application.
    fn new_request(&mut self, tx: TxId, source: Source) {
        let in_dialog = self
            .layer
            .request(tx)
            .and_then(|r| r.to())
            .is_some_and(|to| to.tag().is_some());
        // §8.2.2.2 is for requests outside a dialog (no To tag).
        let merged = !in_dialog && self.layer.merged(tx).is_some();
        let request = self.layer.request(tx).expect("new");
        if let Some((code, extra)) = uas::check(&self.config, request, merged) {
            if code == 482 {
                self.stats.merged_requests += 1;
            }
            self.answer_with(tx, code, extra);
            return;
        }
        match request.method() {
            Some(Method::Options) => {
                let extra = uas::capabilities(&self.config);
                self.answer_with(tx, 200, extra);
            }
            Some(Method::Cancel) => self.on_cancel(tx),
            _ if in_dialog => {
                self.in_dialog_request(tx, source);
            }
            Some(Method::Invite) => self.incoming_invite(tx, source),
            Some(Method::Refer) => self.refer_outside_dialog(tx, source),
            Some(Method::Bye) => self.answer_with(tx, 481, alloc::vec::Vec::new()),
            _ => {
                let request = request.clone();
                self.events.push_back(Event::Request {
                    tx,
                    request,
                    source,
                });
            }
        }
    }

    /// Answers server transaction `tx` with `code` and `extra` headers.
    fn answer_with(&mut self, tx: TxId, code: u16, extra: alloc::vec::Vec<Header<SipStr>>) {
        if self.respond_plain(tx, code, &extra, &[]).is_some() {
            return;
        }
        if let Ok(mut r) = self.response(tx, code) {
            r.headers.extend(extra);
            let _ = self.layer.respond(self.now, tx, &r, &mut self.out);
            self.layer.pool.recycle(r);
        }
    }

    /// Sends on server transaction `tx` the response [`Endpoint::response`] builds with
    /// `extra` fields pushed and `body`, written straight from the request instead
    /// (`Layer::respond_plain`: the same bytes, without building the message); the bytes
    /// sent. `None`, having sent nothing, when it cannot be written so (then build it).
    pub(crate) fn respond_plain(
        &mut self,
        tx: TxId,
        code: u16,
        extra: &[Header<SipStr>],
        body: &[u8],
    ) -> Option<Result<Bytes, RespondError>> {
        self.layer.get(tx).filter(|t| t.client_key().is_none())?;
        // No side effect when the request is given up (then `None` below).
        let tag = self.tag_for(tx, code);
        let tail = crate::msg::emit::Tail {
            record_route: creates_dialog(self.layer.request(tx)?, code, tag.is_some()),
            server: self.config.user_agent.as_ref(),
            extra,
            body,
        };
        self.layer
            .respond_plain(self.now, tx, code, tag.as_deref(), &tail, &mut self.out)
    }

    /// §9.2: a CANCEL for a pending INVITE gets 200 and the INVITE 487; otherwise 481.
    fn on_cancel(&mut self, tx: TxId) {
        let cancel = self.layer.request(tx).expect("new");
        let invite = self.layer.invite_for_cancel(cancel);
        match invite {
            None => self.answer_with(tx, 481, alloc::vec::Vec::new()),
            Some(invite) => {
                // The 200 to the CANCEL carries the INVITE's To tag (§9.2).
                if let Some(tag) = self.tag_for(invite, 487) {
                    self.tags.insert(tx, tag);
                }
                self.answer_with(tx, 200, alloc::vec::Vec::new());
                if self.layer.get(invite).map(|t| t.state) == Some(State::Proceeding) {
                    self.answer_with(invite, 487, alloc::vec::Vec::new());
                    if !self.call_cancelled(invite) {
                        self.events.push_back(Event::Cancelled { tx: invite });
                    }
                }
            }
        }
    }

    /// Moves the transaction layer's reports to the application's queue.
    fn flush(&mut self) {
        loop {
            self.read_reports();
            // Every reader of this step's finished requests has run; the transactions over
            // with their final response end now, and their ends are read in turn.
            self.layer.shed_finished(&mut self.out);
            if self.out.events.is_empty() {
                break;
            }
        }
        // The layer's reports hold whole responses: a few at a time is what one input makes,
        // so the queue keeps room for only a few at rest (and a burst — a tick that ends many
        // transactions — gives back what it took).
        if self.out.events.capacity() > 8 {
            self.out.events.shrink_to(4);
        }
        // The messages of this input read, the datagram the parser's spare handle holds is
        // not kept for the next.
        self.layer.pool.let_go();
    }

    /// [`Endpoint::flush`]'s reading of the reports queued now.
    fn read_reports(&mut self) {
        while let Some(e) = self.out.events.pop_front() {
            let event = match e {
                TxEvent::Response { tx, response } => {
                    // A response read here and not reported gives its header list back.
                    let challenged = matches!(response.status(), Some(401 | 407))
                        && self.on_challenge(tx, &response);
                    if !challenged {
                        self.bye_answered(tx, response.status().unwrap_or(0));
                    }
                    let done = if challenged || self.quiet.contains_key(&tx) {
                        true
                    } else if self.tx_transfers.contains_key(&tx) {
                        let sub = Self::refer_sub_of(&response);
                        self.transfer_response(tx, response.status(), sub);
                        true
                    } else {
                        !self.call_response(tx, &response)
                    };
                    if done {
                        self.layer.pool.recycle(response);
                        continue;
                    }
                    Event::Response { tx, response }
                }
                TxEvent::Timeout { tx } => {
                    if self.tx_transfers.contains_key(&tx) {
                        self.transfer_response(tx, None, true);
                        continue;
                    }
                    if self.quiet.contains_key(&tx) {
                        self.bye_timed_out(tx);
                        continue;
                    }
                    if self.call_timeout(tx) {
                        continue;
                    }
                    Event::Timeout { tx }
                }
                TxEvent::NoAck { tx } => Event::NoAck { tx },
                TxEvent::ProceedingTimeout { tx } => Event::InviteCancelled { tx },
                TxEvent::Terminated { tx } => {
                    self.tags.remove(&tx);
                    if let Some(Some(b)) = self.quiet.remove(&tx) {
                        self.bye_ended(b.call, tx);
                    }
                    self.auth_trails.remove(&tx);
                    self.tx_transfers.remove(&tx);
                    self.orphans.remove(&tx);
                    if let Some(call) = self.tx_calls.remove(&tx) {
                        if let Some(c) = self.calls.get_mut(&call) {
                            c.invite_tx = c.invite_tx.filter(|t| *t != tx);
                            if c.invite_tx.is_none() {
                                c.invite_ended();
                            }
                        }
                    }
                    continue;
                }
            };
            self.events.push_back(event);
        }
    }
}

/// A timer of the UA core, kept per call (a transfer's timers belong to the call it
/// transfers or was asked in).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// §13.3.1.4: retransmit the 2xx (T1 doubling up to T2) until the ACK arrives, for 64·T1.
    Retransmit2xx,
    /// §14.1: send the re-INVITE again after a 491.
    GlareRetry,
    /// A transfer's timer: the transferor's wait for the final NOTIFY; the transferee's
    /// subscription expiry, then its grace period before it BYEs the original call itself.
    Transfer(TransferId),
    /// The transferor refreshes its refer subscription (RFC 6665 §4.1.2.2).
    ReferRefresh(TransferId),
    /// The oldest dialog remembered as ended ended 64·T1 ago: forget it (RFC 3891 §3's 603
    /// no longer applies). One timer for all of them, armed for [`ENDED`].
    ForgetDialog,
    /// An attended transfer of ours succeeded 64·T1 ago: the target should have ended this
    /// consultation call (it replaced it); if it is still up, we hang it up.
    ReplacedGrace,
    /// The 2xx to our INVITE without an offer carried one 32·T1 ago and the application has
    /// not answered it: the ACK refuses it and a BYE follows
    /// ([`Endpoint::offer_unanswered`]), before the peer, which retransmits its 2xx for
    /// 64·T1 (§13.3.1.4), gives up on the ACK.
    AnswerDue,
}

/// The key of the endpoint's timers that belong to no call ([`Timer::ForgetDialog`]): calls
/// are numbered from 1.
pub(crate) const ENDED: CallId = CallId(0);

impl Endpoint {
    /// Arms (or moves) timer `t` of `call` to fire at `at`.
    pub(crate) fn arm(&mut self, call: CallId, t: Timer, at: Instant) {
        self.timers.arm(call, t, at);
    }

    /// Disarms timer `t` of `call`, if armed.
    pub(crate) fn disarm(&mut self, call: CallId, t: Timer) {
        self.timers.disarm(call, t);
    }

    /// Fires the UA core's timers due at `now`.
    fn ua_timeouts(&mut self) {
        while let Some((call, t)) = self.timers.pop_due(self.now) {
            match t {
                Timer::Retransmit2xx => self.retransmit_2xx(call),
                Timer::GlareRetry => self.glare_retry(call),
                Timer::Transfer(t) => self.transfer_timer(t),
                Timer::ReferRefresh(t) => self.refresh_refer(t),
                Timer::ForgetDialog => {
                    if let Some(next) = self.ended.prune(self.now) {
                        self.arm(ENDED, Timer::ForgetDialog, next);
                    }
                }
                Timer::ReplacedGrace => {
                    let _ = self.hangup(self.now, call);
                }
                Timer::AnswerDue => self.offer_unanswered(call),
            }
        }
    }

    // ----- what calls tell the transfer roles -----

    /// A call changed state (a transferee reports its call to the target, RFC 3515 §2.4.4).
    pub(crate) fn on_call_state(&mut self, call: CallId, state: CallState, status: Option<u16>) {
        self.transferee_progress(call, state, status);
    }

    /// Our re-INVITE putting `call` on hold ended (`held`: it got a 2xx).
    pub(crate) fn on_hold_done(&mut self, call: CallId, held: bool) {
        self.after_hold(call, held);
    }

    /// `call` ended: the transfers it carried end too, but for the refer subscriptions,
    /// which keep its (confirmed) `dialog`.
    pub(crate) fn on_call_ended(
        &mut self,
        call: CallId,
        dialog: Option<alloc::boxed::Box<crate::dialog::Dialog>>,
        bye: Option<TxId>,
    ) {
        self.transfers_on_call_end(call, dialog, bye);
    }

    /// A request with a To tag that names no call's dialog: one of a dialog an out-of-dialog
    /// REFER created, or 481 (§12.2.2).
    pub(crate) fn in_other_dialog(
        &mut self,
        tx: TxId,
        id: &crate::dialog::DialogId,
        request: &Message,
    ) {
        if self.subscription_dialog_request(tx, id, request) {
            return;
        }
        if let Some(&call) = self.lingering_ids.get(id) {
            if self.lingering_request(call, tx, request) {
                return;
            }
        }
        // RFC 5407 §3.2.1: BYEs crossed. A dialog that ended lately (ours ended by our BYE,
        // or by theirs) is in its Mortal state: a BYE in it still gets 200.
        let code = if request.method() == Some(&Method::Bye) && self.ended.contains(id, self.now) {
            200
        } else {
            481
        };
        self.answer_with(tx, code, alloc::vec::Vec::new());
    }

    /// A request in `call`'s dialog that is not part of the session (§12.2.2), other than
    /// REFER and NOTIFY (read where their transaction holds them: `in_dialog_request`): a
    /// SUBSCRIBE refreshing a refer subscription goes to the transfer roles, anything else
    /// to the application.
    pub(crate) fn in_dialog_usage(
        &mut self,
        call: CallId,
        tx: TxId,
        request: Message,
        source: Source,
    ) {
        match request.method() {
            Some(Method::Subscribe) => self.incoming_subscribe(call, tx, &request),
            _ => {
                // The application's now: its list is not given back.
                self.events.push_back(Event::Request {
                    tx,
                    request,
                    source,
                });
                return;
            }
        }
        // Read by its handler: its list goes back to the pool.
        self.layer.pool.recycle(request);
    }
}

/// `Retry-After: <seconds>` (§20.33).
fn retry_after(seconds: u32) -> Header<SipStr> {
    Header::RetryAfter(crate::msg::RetryAfter {
        seconds,
        comment: None,
        params: Default::default(),
    })
}

/// Does a response with status `code` and a new To tag (`tagged`) to `request` create a
/// dialog (101–299 to an INVITE outside one)? It then carries the request's Record-Route, in
/// order (RFC 3261 §12.1.1).
fn creates_dialog(request: &Message, code: u16, tagged: bool) -> bool {
    (101..300).contains(&code) && request.method() == Some(&Method::Invite) && tagged
}

/// The endpoint's error for the transaction layer's refusal of a response.
pub(crate) fn respond_error(e: RespondError) -> Error {
    match e {
        RespondError::Unknown => Error::UnknownTransaction,
        RespondError::Final => Error::AlreadyAnswered,
        RespondError::NotAResponse => Error::InvalidMessage("not a response"),
    }
}

/// A drained queue that grew during a burst gives its memory back, so that an endpoint at
/// rest holds what it held before the burst.
fn shrink<T>(q: &mut VecDeque<T>) {
    if q.capacity() > 32 {
        q.shrink_to(8);
    }
}

/// RFC 3261 §18.2.2 (with RFC 3581): where a response goes. Streams: back on the connection
/// the request came in on. Datagrams: to the source address (the `received` address), at the
/// source port when `rport` was asked for, else at the sent-by port (default 5060).
fn reply_destination(source: &Source, via: Option<&Via<SipStr>>) -> Destination {
    if source.transport.is_stream() {
        return Destination {
            transport: source.transport,
            addr: source.remote,
            conn: source.conn,
        };
    }
    let mut addr = source.remote;
    if let Some(via) = via {
        if via.rport().is_none() {
            addr.set_port(via.port.unwrap_or(5060));
        }
    }
    Destination {
        transport: source.transport,
        addr,
        conn: None,
    }
}
