//! The transaction layer (RFC 3261 §17, with RFC 6026's Accepted state): the INVITE and
//! non-INVITE client and server transactions, their matching rules and their timers.
//!
//! The layer is driven by the [`crate::Endpoint`]: received messages, requests and responses
//! from the transaction user, and timer ticks go in; [`crate::Transmit`]s and `TxEvent`s
//! come out through an `Outbox`. It never reads a clock and keeps every timer in one ordered
//! structure ([`timer`]), so `poll_timeout` and `handle_timeout` cost O(log n).
//!
//! | machine | states | timers |
//! |---|---|---|
//! | INVITE client (§17.1.1) | Calling, Proceeding, Completed, Accepted | A, B, D, M (+ C) |
//! | non-INVITE client (§17.1.2) | Trying, Proceeding, Completed | E, F, K |
//! | INVITE server (§17.2.1) | Proceeding, Completed, Confirmed, Accepted | 100 Trying, G, H, I, L |
//! | non-INVITE server (§17.2.2) | Trying, Proceeding, Completed | J |

mod client;
mod key;
mod server;
pub mod timer;

pub(crate) use client::CancelError;
pub(crate) use key::{ClientKey, ClientKeyRef, ServerKey};
pub(crate) use server::{Incoming, RespondError};
pub use timer::Timer;

use crate::msg::Message;
use crate::time::{Duration, Instant};
use crate::transport::{Destination, Transmit, Transport};
use alloc::collections::VecDeque;
use bytes::Bytes;
use core::net::SocketAddr;
use smallvec::SmallVec;
use timer::TimerQueue;

/// A transaction, client or server, as the endpoint numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxId(pub(crate) u64);

impl TxId {
    /// The number (unique for the endpoint's lifetime).
    pub fn get(self) -> u64 {
        self.0
    }
}

/// T1, T2, T4 and the other durations of RFC 3261 §17 (Table 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timers {
    /// RTT estimate; default 500 ms.
    pub t1: Duration,
    /// Longest retransmit interval for non-INVITE requests and INVITE responses; default 4 s.
    pub t2: Duration,
    /// Longest time a message stays in the network; default 5 s.
    pub t4: Duration,
    /// Wait for retransmitted finals in the INVITE client's Completed state (Timer D);
    /// RFC 3261 asks for at least 32 s on unreliable transports.
    pub timer_d: Duration,
    /// How long an INVITE client waits in Proceeding before it cancels (Timer C,
    /// §16.6 / §13.3.1.1); default 180 s.
    pub timer_c: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            timer_d: Duration::from_secs(32),
            timer_c: Duration::from_secs(180),
        }
    }
}

impl Timers {
    /// 64·T1: Timers B, F, H, J, L, M.
    pub fn t1x64(&self) -> Duration {
        self.t1 * 64
    }
}

/// What the transaction layer tells the transaction user.
// Not boxed: events pass through a short queue that keeps its capacity, and boxing each
// response would cost an allocation per response received.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub(crate) enum TxEvent {
    /// A response for a client transaction (1xx, the final, and 2xx retransmissions in
    /// Accepted).
    Response { tx: TxId, response: Message },
    /// Timer B or F fired (or C's CANCEL got no final): the request timed out (§17.1.1.2,
    /// §17.1.2.2). Reported as a 408 by the TU.
    Timeout { tx: TxId },
    /// Timer H fired: no ACK for a non-2xx final (§17.2.1).
    NoAck { tx: TxId },
    /// A client INVITE reached Timer C: the TU should CANCEL it.
    ProceedingTimeout { tx: TxId },
    /// The transaction is gone.
    Terminated { tx: TxId },
}

/// Where the layer puts what it sends and reports.
#[derive(Clone, Debug, Default)]
pub(crate) struct Outbox {
    pub transmits: VecDeque<Transmit>,
    pub events: VecDeque<TxEvent>,
    /// Messages handed to `transmits` (first sends and retransmissions).
    pub sent: u64,
    /// Retransmissions among them.
    pub retransmissions: u64,
    /// Requests bound for UDP sent over TCP for their size (RFC 3261 §18.1.1).
    pub sized_to_tcp: u64,
    /// Of those, requests sent over UDP after all, TCP being unreachable (§18.1.1).
    pub back_to_udp: u64,
}

impl Outbox {
    pub fn send(&mut self, t: Transmit) {
        self.sent += 1;
        self.transmits.push_back(t);
    }
}

/// Which of the four machines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    InviteClient,
    NonInviteClient,
    InviteServer,
    NonInviteServer,
}

/// Transaction states (§17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2, RFC 6026 §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// INVITE client, request sent.
    Calling,
    /// Non-INVITE, request sent or received.
    Trying,
    /// A provisional response received or sent.
    Proceeding,
    /// A non-2xx final (INVITE) or any final (non-INVITE) received or sent.
    Completed,
    /// INVITE server: ACK received for the non-2xx final.
    Confirmed,
    /// INVITE: 2xx sent or received (RFC 6026).
    Accepted,
}

/// A transaction's matching key.
#[derive(Clone, Debug)]
pub(crate) enum TxKey {
    Client(ClientKey),
    Server(ServerKey),
}

/// What a server transaction with an RFC 2543 key matches To tags on (§17.2.3).
#[derive(Clone, Debug, Default)]
pub(crate) struct Rfc2543Tags {
    /// The To tag of the final response (the ACK carries it).
    pub response: Option<alloc::string::String>,
    /// Once shed: the To tag the request carried.
    pub request: Option<alloc::string::String>,
}

/// One transaction.
#[derive(Clone, Debug)]
pub(crate) struct Tx {
    pub kind: Kind,
    pub state: State,
    /// Where requests (client) or responses (server) go.
    pub dest: Destination,
    /// The local address to send from (server: where the request arrived).
    pub local: Option<SocketAddr>,
    /// Server: the last response sent (retransmitted as is); client: the request as sent,
    /// until its answer has been read; client INVITE after a non-2xx: that final's ACK.
    pub last: Option<Bytes>,
    /// Server: the status of the last response sent.
    pub last_status: u16,
    /// Server with an RFC 2543 key: the To tags it matches on (boxed: rare).
    pub rfc2543: Option<alloc::boxed::Box<Rfc2543Tags>>,
    /// The current retransmission interval (A, E, G), in microseconds ([`Tx::interval`]).
    pub interval_us: u32,
    /// Armed timers.
    pub armed: SmallVec<[timer::Armed; 3]>,
    /// The key it is found by (one of the two kinds: a transaction is client or server).
    pub key: Option<TxKey>,
    /// The hash its key is indexed under (set by [`Layer::insert`]; removing the transaction
    /// needs it again).
    pub key_hash: u64,
    /// Client INVITE: CANCEL asked for before any provisional (§9.1: send it on the first).
    pub cancel_pending: bool,
    /// Client INVITE: its CANCEL was sent (or could not be made: Timer B ends it all the
    /// same).
    pub cancelled: bool,
    /// Started by the layer itself (a CANCEL): its responses and timeouts are not reported.
    pub internal: bool,
    /// Client: bound for UDP, sent over TCP for its size (RFC 3261 §18.1.1); it goes over
    /// UDP after all if TCP cannot reach its destination ([`Layer::unreachable`]).
    pub sized_to_tcp: bool,
    /// The slot of its request in [`Layer`]'s requests while it holds it, else
    /// [`crate::slots::NONE`].
    pub req: u32,
}

/// How many of the oldest transactions [`Layer::make_room`] looks through for one to end
/// early.
const EVICTION_SCAN: usize = 64;

/// The transaction layer.
#[derive(Clone, Debug)]
pub(crate) struct Layer {
    pub timers: Timers,
    /// The largest request a client transaction sends over UDP: a larger one goes over TCP
    /// ([`crate::Config::udp_request_limit`], RFC 3261 §18.1.1).
    pub udp_request_limit: Option<usize>,
    /// The live transactions (a [`crate::slab`], so starting one allocates nothing).
    txs: crate::slab::Slab<TxId, Tx>,
    /// The request of each server transaction that still holds it, as received, under the
    /// transaction's id (and, until the end of the input that brought it, the INVITE a
    /// client transaction read back for the ACK of a non-2xx final). A client transaction
    /// keeps the bytes it sent instead ([`Tx::last`]), to send again (Timers A and E, on an
    /// unreliable transport) until its answer and to make its CANCEL or ACK from: a third of
    /// a typed request's room, never walked to be dropped, and the request's header list goes
    /// back to the pool while still in cache (the rare readers of such a request — a
    /// CANCEL, the ACK of a non-2xx, a challenge's retry, the 503 for a peer that could not
    /// be reached — parse those bytes again: [`Layer::request_copy`]). Kept beside the
    /// transactions and not in them: most live transactions under load are finished ones
    /// that have given their request up ([`Layer::shed_finished`]), and a transaction
    /// without the room of a request (a `Message` is 240 bytes) is 40 % smaller to keep and
    /// to move. Found by the slot its transaction holds ([`Tx::req`]: [`crate::slots`]), not
    /// by id through a hash table of their own.
    reqs: crate::slots::Slots<TxId, Message>,
    /// The transactions by key ([`crate::hashed`]: keyed hash tables).
    client_keys: crate::hashed::Index<TxId>,
    server_keys: crate::hashed::Index<TxId>,
    /// Server transactions of requests without a To tag by [`key::MergeKey`] (RFC 3261
    /// §8.2.2.2: a merged copy of one is answered 482), and the hash each is indexed under.
    merges: crate::hashed::Index<TxId>,
    merge_hashes: crate::hashed::Ids<TxId, u64>,
    queue: TimerQueue,
    /// What the messages a transaction repeats until it ends are cut from: a server's final
    /// responses, the ACK of a non-2xx ([`crate::Config::send_block`]).
    pub blocks: crate::msg::emit::Blocks,
    /// What the messages kept no longer than a round trip are cut from: requests (a client
    /// transaction keeps its bytes until its answer, to send them again; an INVITE moves them
    /// out at its first provisional, `Layer::keep_ringing`), the stateless answers, and the
    /// 2xx to an INVITE (repeated by the call until its ACK, §13.3.1.4). Their
    /// blocks are reclaimed in place as soon as what was cut from them is sent and answered
    /// ([`crate::Config::send_block`]).
    pub sent_once: crate::msg::emit::Blocks,
    /// The header lists of the messages let go of ([`crate::msg::pool`]): a shed or ended
    /// transaction's request, a response sent or read.
    pub pool: crate::msg::pool::HeaderPool,
    /// Transactions that got their final response since the last [`Layer::shed_finished`].
    finished: alloc::vec::Vec<TxId>,
    /// Transactions over a reliable transport (or with a wait of zero) that are over once
    /// their final response is sent or received — RFC 3261 §17 sets Timers D, I, J and K to
    /// zero there —, and client transactions that timed out (Timer B) or whose destination
    /// could not be reached ([`Layer::unreachable`]), ended by [`Layer::shed_finished`], after
    /// the TU has read their last report: a challenge's retry reads the request of the
    /// transaction the 401 ended, a redirected call the INVITE that got no answer.
    ending: alloc::vec::Vec<TxId>,
    next_id: u64,
}

/// A retransmission interval as a transaction keeps it: microseconds in 32 bits (up to 71
/// minutes, far beyond the 64·T1 a transaction lasts; a longer one is held as that).
fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

impl Tx {
    /// Over a reliable transport (RFC 3261 §17: no retransmissions, no waits to absorb
    /// them). A server transaction's responses go over the transport its request came on
    /// (§18.2.2), so its destination's transport is that one too.
    pub fn reliable(&self) -> bool {
        self.dest.transport.is_reliable()
    }

    /// Where its request was bound: UDP to the same address when it went over TCP for its
    /// size (§18.1.1), else its destination. A new transaction for the same request (a
    /// challenge's retry, a BYE sent again) goes there, its own size deciding anew — and
    /// going back to UDP if TCP is refused.
    pub fn bound_for(&self) -> Destination {
        if self.sized_to_tcp {
            Destination::udp(self.dest.addr)
        } else {
            self.dest
        }
    }

    /// The current retransmission interval (A, E, G).
    pub fn interval(&self) -> Duration {
        Duration::from_micros(self.interval_us.into())
    }

    pub fn set_interval(&mut self, d: Duration) {
        self.interval_us = micros(d);
    }

    pub fn client_key(&self) -> Option<&ClientKey> {
        match &self.key {
            Some(TxKey::Client(k)) => Some(k),
            _ => None,
        }
    }

    pub fn server_key(&self) -> Option<&ServerKey> {
        match &self.key {
            Some(TxKey::Server(k)) => Some(k),
            _ => None,
        }
    }
}

impl Layer {
    /// A layer with `timers`, whose messages are cut from blocks of `block` bytes (see
    /// [`crate::Config::send_block`]) and which keeps `lists` header lists for reuse
    /// ([`crate::Config::header_lists`]).
    /// Its key tables hash with `keys`.
    pub fn new(timers: Timers, block: usize, lists: usize, keys: crate::hashed::Keys) -> Self {
        Layer {
            timers,
            udp_request_limit: None,
            blocks: crate::msg::emit::Blocks::new(block),
            sent_once: crate::msg::emit::Blocks::new(block),
            pool: crate::msg::pool::HeaderPool::new(lists),
            txs: crate::slab::Slab::default(),
            reqs: crate::slots::Slots::default(),
            client_keys: crate::hashed::Index::new(keys),
            server_keys: crate::hashed::Index::new(keys),
            merges: crate::hashed::Index::new(keys),
            merge_hashes: crate::hashed::Ids::default(),
            queue: TimerQueue::default(),
            finished: alloc::vec::Vec::new(),
            ending: alloc::vec::Vec::new(),
            next_id: 1,
        }
    }

    /// The layer with [`Layer::udp_request_limit`] `limit`.
    pub fn with_udp_request_limit(mut self, limit: Option<usize>) -> Self {
        self.udp_request_limit = limit;
        self
    }

    /// Live transactions.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Transactions still waiting for a final response (client) or still to send one
    /// (server). O(transactions).
    pub fn pending(&self) -> usize {
        self.txs
            .values()
            .filter(|t| matches!(t.state, State::Calling | State::Trying | State::Proceeding))
            .count()
    }

    /// The runtime could not reach `addr` over `transport` (a stream connection that could not
    /// be opened): every client transaction to it that has heard nothing yet — Calling or
    /// Trying, so its request went nowhere and, on a reliable transport, will not be sent
    /// again — ends, at the end of this input once its TU has read the report, with no timer
    /// left to fire before (§17.1.4: "the client transaction SHOULD inform the TU that a
    /// transport failure has occurred, and ... SHOULD transition directly to the
    /// 'Terminated' state"). Its TU gets a 503 made from its request, as §8.1.3.1 asks ("the
    /// condition MUST be treated as a 503 (Service Unavailable) status code"). O(transactions):
    /// a failed connection is rare. Returns how many ended.
    ///
    /// A request that went over TCP only for its size goes over UDP instead, in the same
    /// transaction (its branch unchanged, its top Via saying UDP again, Timer A or E now
    /// armed): §18.1.1, "If the request is sent using TCP because of the message size
    /// constraint, and the connection attempt generates an ICMP Protocol Not Supported, or
    /// results in a TCP reset, the element SHOULD retry the request, using UDP."
    pub fn unreachable(
        &mut self,
        now: Instant,
        transport: Transport,
        addr: SocketAddr,
        out: &mut Outbox,
    ) -> usize {
        let mut failed: SmallVec<[TxId; 4]> = self
            .txs
            .iter()
            .filter(|(_, t)| {
                matches!(t.kind, Kind::InviteClient | Kind::NonInviteClient)
                    && matches!(t.state, State::Calling | State::Trying)
                    && t.dest.transport == transport
                    && t.dest.addr == addr
            })
            .map(|(id, _)| *id)
            .collect();
        failed.retain(|id| !self.back_to_udp(now, *id, out));
        for &id in &failed {
            if !self.txs[&id].internal {
                match self.request_copy(id) {
                    Some(request) => {
                        let response = crate::msg::builder::response_in(
                            &request,
                            503,
                            None,
                            crate::msg::Headers::with_capacity(crate::msg::pool::MIN),
                        );
                        self.pool.recycle(request);
                        out.events.push_back(TxEvent::Response { tx: id, response });
                    }
                    // No request to make a 503 from (one read back keeps what the parser
                    // refuses as written, so this is not expected): the TU hears what
                    // Timer F would have told it, at once.
                    None => out.events.push_back(TxEvent::Timeout { tx: id }),
                }
            }
            // Its request stays readable until the TU has read the 503 (a call moves on to
            // its next target, RFC 3261 §8.1.3.4).
            self.end_after_reports(id);
        }
        failed.len()
    }

    /// A TCP connection to `addr` closed: every client transaction that sent its request
    /// to `addr` over TCP only for its size and has heard nothing yet sends it over UDP
    /// ([`Layer::unreachable`]); others wait for their answer as before (a server answers on
    /// a new connection when its request's is gone, §18.2.2). O(transactions): rare. Returns
    /// how many went over UDP.
    pub fn connection_lost(&mut self, now: Instant, addr: SocketAddr, out: &mut Outbox) -> usize {
        let sized: SmallVec<[TxId; 4]> = self
            .txs
            .iter()
            .filter(|(_, t)| {
                t.sized_to_tcp
                    && matches!(t.state, State::Calling | State::Trying)
                    && t.dest.addr == addr
            })
            .map(|(id, _)| *id)
            .collect();
        sized
            .into_iter()
            .filter(|&id| self.back_to_udp(now, id, out))
            .count()
    }

    /// Client transaction `id`, sent over TCP for its size (§18.1.1) and TCP unreachable: its
    /// request goes over UDP after all, Timer A or E armed (§17.1.1.2, §17.1.2.2; Timer B
    /// or F runs on from the first send). False when it was not sent so.
    fn back_to_udp(&mut self, now: Instant, id: TxId, out: &mut Outbox) -> bool {
        let Some(tx) = self.txs.get_mut(&id) else {
            return false;
        };
        if !tx.sized_to_tcp {
            return false;
        }
        let Some(bytes) = tx
            .last
            .as_deref()
            .and_then(|b| crate::transport::with_via_transport(b, Transport::Tcp, Transport::Udp))
        else {
            return false;
        };
        tx.sized_to_tcp = false;
        tx.dest = Destination::udp(tx.dest.addr);
        tx.last = Some(bytes.clone());
        let retransmit = if tx.kind == Kind::InviteClient {
            Timer::A
        } else {
            Timer::E
        };
        let tx = &self.txs[&id];
        self.transmit(tx, bytes, out);
        out.back_to_udp += 1;
        self.arm(id, retransmit, now + self.timers.t1);
        true
    }

    /// Gives up the request of every transaction that got its final response since the last
    /// call: what such a transaction still does needs only its key, its timers and the bytes
    /// it retransmits — the last response (server, Completed: §17.2.1, §17.2.2), the ACK
    /// (INVITE client, Completed: §17.1.1.2) — and, in the Accepted state of RFC 6026, not
    /// even those (2xx retransmissions are the TU's affair). The parsed request and the
    /// datagram it points into are most of a transaction's memory, and a transaction lingers
    /// 64·T1 (32 s) after its final response on UDP, so under load most live transactions
    /// are finished ones. Called by the endpoint at the end of each input or command, once
    /// the TU has read what it needs (a challenge's request, say).
    ///
    /// The transactions whose wait after their final response is zero end here too, their
    /// `Terminated` reports going to `out` ([`Layer::linger`]).
    pub fn shed_finished(&mut self, out: &mut Outbox) {
        // Taken and put back, so that the lists keep their capacity from one input to the
        // next.
        let mut finished = core::mem::take(&mut self.finished);
        for id in finished.drain(..) {
            self.shed(id);
        }
        self.finished = finished;
        let mut ending = core::mem::take(&mut self.ending);
        for id in ending.drain(..) {
            self.terminate(id, out);
        }
        self.ending = ending;
    }

    /// See [`Layer::shed_finished`].
    fn shed(&mut self, id: TxId) {
        let Some(tx) = self.txs.get_mut(&id) else {
            return;
        };
        match (tx.kind, tx.state) {
            // Answered: its request, kept as sent, is not sent again (Completed absorbs
            // retransmitted responses only, §17.1.2.2; Accepted leaves the 2xx and its ACK
            // to the TU, RFC 6026 §8.4).
            (Kind::NonInviteClient, State::Completed) | (Kind::InviteClient, State::Accepted) => {
                tx.last = None;
                return;
            }
            (Kind::NonInviteClient, _) => return,
            // Completed: its ACK stays in `last`; the INVITE read back for it goes below.
            _ => {}
        }
        // Shed already (its request gone), or not finished.
        if tx.req == crate::slots::NONE
            || !matches!(
                tx.state,
                State::Completed | State::Confirmed | State::Accepted
            )
        {
            return;
        }
        let slot = core::mem::replace(&mut tx.req, crate::slots::NONE);
        let request = self.reqs.get_mut(slot);
        if tx.server_key().is_some() {
            // Only the RFC 2543 key matches on it (§17.2.3).
            if let Some(tags) = tx.rfc2543.as_mut() {
                tags.request = request
                    .as_ref()
                    .and_then(|r| r.to())
                    .and_then(|t| t.tag())
                    .map(Into::into);
            }
            if tx.state == State::Accepted {
                tx.last = None;
            }
        }
        if let Some(request) = request {
            let headers = core::mem::take(&mut request.headers);
            self.discard_request(slot);
            self.pool.give(headers);
        }
    }

    /// Frees request slot `slot`; the requests left move down if that left them sparse, each
    /// transaction told its new slot.
    fn discard_request(&mut self, slot: u32) {
        if self.reqs.discard(slot) {
            let txs = &mut self.txs;
            self.reqs.compact_if_sparse(|id, n| {
                if let Some(tx) = txs.get_mut(&id) {
                    tx.req = n;
                }
            });
        }
    }

    /// The slot of transaction `id`'s request ([`crate::slots::NONE`] when it holds none).
    #[inline]
    fn req_slot(&self, id: TxId) -> u32 {
        self.txs.get(&id).map_or(crate::slots::NONE, |tx| tx.req)
    }

    /// Notes that `id` got its final response (see [`Layer::shed_finished`]).
    fn finished(&mut self, id: TxId) {
        self.finished.push(id);
    }

    /// With no transaction left, gives back the nodes the empty maps still hold and the
    /// header lists kept for reuse (with nothing under way, the next message may be a while).
    pub fn release_if_idle(&mut self) {
        if self.txs.is_empty() {
            self.txs.clear_if_empty();
            self.reqs.clear_if_empty();
            self.pool.clear();
            if self.queue.len() == 0 {
                self.queue = Default::default();
            }
        }
    }

    /// Room for one more transaction under `max`: true when there is, or when a server
    /// transaction that only lingers to absorb retransmissions (Completed after a non-2xx
    /// final or any non-INVITE final, Confirmed) could be ended early to make some. Under
    /// overload those are the cheapest to lose: a retransmitted request then meets a new
    /// transaction and gets its answer again, as from a stateless UAS (RFC 3261 §8.2.7). The
    /// search looks at the [`EVICTION_SCAN`] oldest transactions only (those that linger the
    /// same 64·T1 end in the order they started), so it stays cheap when every transaction is
    /// waiting for the application (and the request gets 503).
    pub fn make_room(&mut self, max: usize, out: &mut Outbox) -> bool {
        if self.txs.len() < max {
            return true;
        }
        let victim = self
            .txs
            .iter()
            .take(EVICTION_SCAN)
            .find(|(_, t)| {
                matches!(t.kind, Kind::InviteServer | Kind::NonInviteServer)
                    && matches!(t.state, State::Completed | State::Confirmed)
            })
            .map(|(&id, _)| id);
        match victim {
            Some(id) => {
                self.terminate(id, out);
                true
            }
            None => false,
        }
    }

    /// Armed timers.
    pub fn timer_count(&self) -> usize {
        self.queue.len()
    }

    pub fn get(&self, id: TxId) -> Option<&Tx> {
        self.txs.get(&id)
    }

    /// The request of server transaction `id` while the transaction holds it (not after
    /// [`Layer::shed_finished`] let it go), as a message. A client transaction holds the
    /// bytes it sent ([`Layer::request_copy`] parses them; a client INVITE that got a
    /// non-2xx final holds them parsed, for its TU, until the end of that input).
    pub fn request(&self, id: TxId) -> Option<&Message> {
        self.reqs.get(self.req_slot(id))
    }

    /// A copy of the request of transaction `id`: [`Layer::request`]'s, or a client's
    /// parsed again from the bytes it sent, while it keeps them (until its final response —
    /// or its timeout, or the 503 of an unreachable destination — has been read:
    /// [`Layer::shed_finished`]). For what is rare: a challenge's retry, a 503 for a peer that
    /// could not be reached, a redirected call's next INVITE.
    pub fn request_copy(&mut self, id: TxId) -> Option<Message> {
        if self.req_slot(id) != crate::slots::NONE {
            return self.clone_request(id);
        }
        self.sent_request(id)
    }

    /// Client transaction `id`'s request parsed from the bytes it sent, while `last` holds
    /// them (not once an INVITE's non-2xx final put its ACK there, nor once its answer has
    /// been read: [`Layer::shed_finished`]).
    pub(super) fn sent_request(&mut self, id: TxId) -> Option<Message> {
        let tx = self.txs.get(&id)?;
        let sent = match (tx.kind, tx.state) {
            (Kind::NonInviteClient, _)
            | (Kind::InviteClient, State::Calling | State::Proceeding | State::Accepted) => {
                tx.last.as_ref()?
            }
            _ => return None,
        };
        Message::parse_sent(sent, &mut self.pool)
    }

    /// A copy of the request of transaction `id` (as [`Layer::request`] would give it), its
    /// header list from the pool.
    pub fn clone_request(&mut self, id: TxId) -> Option<Message> {
        let request = self.reqs.get(self.req_slot(id))?;
        Some(self.pool.clone_message(request))
    }

    /// Hands the request of server transaction `id` over (to the application's event) and
    /// keeps in its place a copy of what its responses need: the headers a response copies
    /// (Via, From, To, Call-ID, CSeq, Timestamp: RFC 3261 §8.2.6.2, §8.2.6.1), the
    /// Record-Route a dialog-creating response carries (§12.1.1), the start line and the
    /// body (a 2xx says whether it carries the offer, §13.2.1). A ringing call's INVITE then
    /// keeps half its headers for as long as it rings, in a list of that size.
    pub fn hand_over_request(&mut self, id: TxId) -> Option<Message> {
        let request = self.reqs.get_mut(self.req_slot(id))?;
        let needed = |h: &crate::msg::Header<crate::SipStr>| {
            crate::msg::builder::copied_to_response(h, 100)
                || matches!(h, crate::msg::Header::RecordRoute(_))
        };
        let mut headers = crate::msg::Headers::with_capacity(
            request.headers.iter().filter(|h| needed(h)).count(),
        );
        headers.extend_kept(&request.headers, needed);
        let kept = Message {
            start: request.start.clone(),
            headers,
            body: request.body.clone(),
        };
        Some(core::mem::replace(request, kept))
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.queue.next()
    }

    fn alloc_id(&mut self) -> TxId {
        let id = TxId(self.next_id);
        self.next_id += 1;
        id
    }

    /// The client transaction with key `k` (§17.1.3), as a response holds it.
    pub(super) fn find_client(&self, k: &ClientKeyRef<'_>) -> Option<TxId> {
        let txs = &self.txs;
        self.client_keys
            .find(self.client_keys.hash(k), |id| {
                matches!(txs.get(&id).and_then(|t| t.key.as_ref()), Some(TxKey::Client(c)) if k.is(c))
            })
    }

    /// The server transaction with key `k` (§17.2.3).
    pub(super) fn find_server(&self, k: &ServerKey) -> Option<TxId> {
        self.find_server_hashed(k).1
    }

    /// [`Layer::find_server`], with the key's hash: a request that matches none starts a
    /// transaction under that key ([`Layer::insert`] is given the hash, not made to compute
    /// it again).
    pub(super) fn find_server_hashed(&self, k: &ServerKey) -> (u64, Option<TxId>) {
        let txs = &self.txs;
        let h = self.server_keys.hash(k);
        let id = self.server_keys.find(h, |id| {
            matches!(txs.get(&id).and_then(|t| t.key.as_ref()), Some(TxKey::Server(s)) if s == k)
        });
        (h, id)
    }

    /// Adds transaction `tx` as `id`, with the request it holds; `hash`: its key's hash, when
    /// the caller has it already.
    fn insert(&mut self, id: TxId, mut tx: Tx, request: Option<Message>, hash: Option<u64>) {
        if let Some(request) = request {
            tx.req = self.reqs.insert(id, request);
        }
        match &tx.key {
            Some(TxKey::Client(k)) => {
                tx.key_hash = hash.unwrap_or_else(|| self.client_keys.hash(k));
                self.client_keys.insert(tx.key_hash, id);
            }
            Some(TxKey::Server(k)) => {
                tx.key_hash = hash.unwrap_or_else(|| self.server_keys.hash(k));
                self.server_keys.insert(tx.key_hash, id);
            }
            None => {}
        }
        self.txs.insert(id, tx);
    }

    /// Arms `t` for `id` at `at` (replacing an armed instance of the same timer).
    fn arm(&mut self, id: TxId, t: Timer, at: Instant) {
        let Some(tx) = self.txs.get_mut(&id) else {
            return;
        };
        let new = timer::Armed::new(t, at);
        let old = match tx.armed.iter_mut().find(|a| a.timer() == t) {
            Some(slot) => Some(core::mem::replace(slot, new)),
            None => {
                tx.armed.push(new);
                None
            }
        };
        self.queue.insert(at, id, t);
        if let Some(old) = old {
            self.cancel_timer(id, old);
        }
    }

    /// See [`timer::TimerQueue::cancel`] (one instance of it for the layer: it is the code
    /// of every disarm).
    fn cancel_timer(&mut self, id: TxId, armed: timer::Armed) {
        let txs = &self.txs;
        self.queue
            .cancel(id, armed, |e| Self::timer_is_live(txs, e));
    }

    /// Is `e` an armed timer (not one cancelled or re-armed since)?
    #[inline]
    fn timer_is_live(txs: &crate::slab::Slab<TxId, Tx>, e: &timer::Entry) -> bool {
        let &(at, id, t) = e;
        txs.get(&id)
            .is_some_and(|tx| tx.armed.contains(&timer::Armed::new(t, at)))
    }

    /// See [`timer::TimerQueue::purge`].
    fn purge_timers(&mut self) {
        let txs = &self.txs;
        self.queue.purge(|e| Self::timer_is_live(txs, e));
    }

    fn disarm(&mut self, id: TxId, t: Timer) {
        let Some(tx) = self.txs.get_mut(&id) else {
            return;
        };
        if let Some(pos) = tx.armed.iter().position(|a| a.timer() == t) {
            let armed = tx.armed.swap_remove(pos);
            self.cancel_timer(id, armed);
        }
    }

    fn disarm_all(&mut self, id: TxId) {
        let Some(tx) = self.txs.get_mut(&id) else {
            return;
        };
        for a in core::mem::take(&mut tx.armed) {
            self.cancel_timer(id, a);
        }
    }

    /// Removes the transaction and everything that points at it.
    fn terminate(&mut self, id: TxId, out: &mut Outbox) {
        self.disarm_all(id);
        // What the indexes and the pool need is taken out; the rest is dropped in its slot
        // rather than moved out of it.
        let Some(tx) = self.txs.get_mut(&id) else {
            return;
        };
        let client = matches!(tx.key, Some(TxKey::Client(_)));
        let server = matches!(tx.key, Some(TxKey::Server(_)));
        let key_hash = tx.key_hash;
        let slot = tx.req;
        self.txs.discard(&id);
        if let Some(request) = self.reqs.get_mut(slot) {
            let headers = core::mem::take(&mut request.headers);
            self.discard_request(slot);
            self.pool.give(headers);
        }
        if client {
            self.client_keys.remove(key_hash, id);
        }
        if server {
            self.server_keys.remove(key_hash, id);
            if let Some(h) = self.merge_hashes.remove(&id) {
                self.merges.remove(h, id);
            }
        }
        out.events.push_back(TxEvent::Terminated { tx: id });
    }

    /// Ends transaction `id` at the end of this input ([`Layer::shed_finished`], after the TU
    /// has read its last report), with no timer left to fire before.
    pub(super) fn end_after_reports(&mut self, id: TxId) {
        self.disarm_all(id);
        self.ending.push(id);
    }

    /// Arms wait timer `t` (D, I, J, K) after `d`, or, on a reliable transport, where RFC
    /// 3261 §17 sets those timers to zero, ends the transaction at the end of this input
    /// ([`Layer::shed_finished`]: once the TU has read the report of its final response).
    fn linger(&mut self, id: TxId, t: Timer, now: Instant, d: Duration) {
        if d.is_zero() || self.txs.get(&id).is_some_and(Tx::reliable) {
            self.ending.push(id);
        } else {
            self.arm(id, t, now + d);
        }
    }

    /// Sends the transaction's message to its destination.
    fn transmit(&self, tx: &Tx, bytes: Bytes, out: &mut Outbox) {
        out.send(Transmit::new(tx.dest, tx.local, bytes));
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant, out: &mut Outbox) {
        loop {
            let txs = &self.txs;
            let Some((at, id, t)) = self.queue.pop_due(now, |e| Self::timer_is_live(txs, e)) else {
                break;
            };
            if let Some(tx) = self.txs.get_mut(&id) {
                tx.armed.retain(|e| *e != timer::Armed::new(t, at));
            } else {
                continue;
            }
            match t {
                Timer::A | Timer::B | Timer::C | Timer::D | Timer::M => {
                    self.invite_client_timer(id, t, now, out)
                }
                Timer::E | Timer::F | Timer::K => self.non_invite_client_timer(id, t, now, out),
                Timer::G | Timer::H | Timer::I | Timer::L | Timer::Trying => {
                    self.invite_server_timer(id, t, now, out)
                }
                Timer::J => self.terminate(id, out),
            }
        }
        // The entry the last one fired left at the top may be a cancelled one.
        self.purge_timers();
    }
}
