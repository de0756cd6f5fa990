//! Server transactions: INVITE (RFC 3261 §17.2.1, RFC 6026 §7.1) and non-INVITE (§17.2.2).

use super::{Kind, Layer, Outbox, ServerKey, State, Timer, Tx, TxEvent, TxId};
use crate::msg::{builder, Message, Method};
use crate::time::{Duration, Instant};
use crate::transport::{Destination, Source};
use bytes::Bytes;
use smallvec::SmallVec;

/// What became of a received request.
// Not boxed: a value that lives for one call; boxing the ACK would cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Incoming {
    /// It created this server transaction: the TU must answer it.
    New(TxId),
    /// It matched a transaction and was absorbed (a retransmission, or the ACK of a non-2xx
    /// final); whatever it called for has been sent.
    Absorbed,
    /// An ACK no transaction absorbed (the ACK of a 2xx, §17.2.3 / RFC 6026 §7.1): for the
    /// TU.
    Ack(Message),
}

/// Why the TU's response was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RespondError {
    /// No such server transaction.
    Unknown,
    /// The transaction has sent its final response already.
    Final,
    /// A request, or a status outside 100–699.
    NotAResponse,
}

/// §17.2.1: the server transaction sends 100 Trying when the TU has not answered an INVITE
/// within 200 ms.
const TRYING_DELAY: Duration = Duration::from_millis(200);

impl Layer {
    /// A request from the transport (§17.2.3 matching).
    pub fn on_request(
        &mut self,
        now: Instant,
        request: Message,
        source: &Source,
        reply_to: Destination,
        out: &mut Outbox,
    ) -> Incoming {
        let is_ack = request.method() == Some(&Method::Ack);
        let Some(key) = ServerKey::of(&request, None) else {
            return Incoming::Absorbed;
        };
        let (hash, found) = self.find_server_hashed(&key);
        if let Some(id) = found {
            if key.is_rfc2543() && !self.to_tag_matches(id, &request, is_ack) {
                // A different request that happens to share the RFC 2543 key (§17.2.3: the
                // To tags differ): pass it up without a transaction.
                return if is_ack {
                    Incoming::Ack(request)
                } else {
                    Incoming::Absorbed
                };
            }
            return self.matched(now, id, request, is_ack, out);
        }
        if is_ack {
            return Incoming::Ack(request);
        }
        let id = self.alloc_id();
        let invite = request.method() == Some(&Method::Invite);
        debug_assert_eq!(reply_to.transport, source.transport, "§18.2.2");
        let tx = Tx {
            kind: if invite {
                Kind::InviteServer
            } else {
                Kind::NonInviteServer
            },
            state: if invite {
                State::Proceeding
            } else {
                State::Trying
            },
            dest: reply_to,
            local: Some(source.local),
            last: None,
            last_status: 0,
            rfc2543: key
                .is_rfc2543()
                .then(|| alloc::boxed::Box::new(super::Rfc2543Tags::default())),
            interval_us: super::micros(self.timers.t1),
            armed: SmallVec::new(),
            key: Some(super::TxKey::Server(key)),
            key_hash: 0,
            cancel_pending: false,
            cancelled: false,
            internal: false,
            sized_to_tcp: false,
            req: crate::slots::NONE,
        };
        self.insert(id, tx, Some(request), Some(hash));
        if invite {
            self.arm(id, Timer::Trying, now + TRYING_DELAY);
        }
        Incoming::New(id)
    }

    fn to_tag_matches(&self, id: TxId, request: &Message, is_ack: bool) -> bool {
        let tx = &self.txs[&id];
        let theirs = request.to().and_then(|t| t.tag());
        let tags = tx.rfc2543.as_deref();
        let ours = if is_ack {
            tags.and_then(|t| t.response.as_deref())
        } else {
            match self.reqs.get(tx.req) {
                Some(r) => r.to().and_then(|t| t.tag()),
                None => tags.and_then(|t| t.request.as_deref()),
            }
        };
        theirs == ours
    }

    fn matched(
        &mut self,
        now: Instant,
        id: TxId,
        request: Message,
        is_ack: bool,
        out: &mut Outbox,
    ) -> Incoming {
        let tx = &self.txs[&id];
        let (kind, state) = (tx.kind, tx.state);
        if is_ack {
            return match (kind, state) {
                (Kind::InviteServer, State::Completed) => {
                    self.disarm(id, Timer::G);
                    self.disarm(id, Timer::H);
                    self.txs.get_mut(&id).expect("live").state = State::Confirmed;
                    self.linger(id, Timer::I, now, self.timers.t4);
                    self.pool.recycle(request);
                    Incoming::Absorbed
                }
                (Kind::InviteServer, State::Accepted) => Incoming::Ack(request),
                _ => {
                    self.pool.recycle(request);
                    Incoming::Absorbed
                }
            };
        }
        // A retransmission: the last response again (§17.2.1, §17.2.2).
        let resend = matches!(
            (kind, state),
            (
                Kind::InviteServer | Kind::NonInviteServer,
                State::Proceeding | State::Completed
            )
        );
        if resend {
            if let Some(last) = tx.last.clone() {
                out.retransmissions += 1;
                self.transmit(tx, last, out);
            }
        }
        self.pool.recycle(request);
        Incoming::Absorbed
    }

    /// The TU's response on server transaction `id`; the bytes sent.
    pub fn respond(
        &mut self,
        now: Instant,
        id: TxId,
        response: &Message,
        out: &mut Outbox,
    ) -> Result<Bytes, RespondError> {
        let code = response
            .status()
            .filter(|c| (100..=699).contains(c))
            .ok_or(RespondError::NotAResponse)?;
        let tx = self.txs.get_mut(&id).ok_or(RespondError::Unknown)?;
        may_answer(tx)?;
        // §18.2.1: `received` / `rport` in the top Via. `Endpoint::response` has put them
        // there; a response the TU built itself gets them on a copy.
        let stamped;
        let response = if crate::transport::needs_stamp(response, tx.dest.addr) {
            let mut r = response.clone();
            crate::transport::stamp_via(&mut r, tx.dest.addr);
            stamped = r;
            &stamped
        } else {
            response
        };
        let bytes = match Self::blocks_for(&mut self.blocks, &mut self.sent_once, tx.kind, code) {
            Some(blocks) => response.to_bytes_in(blocks),
            None => response.to_bytes(),
        };
        // Only the RFC 2543 key needs it (§17.2.3: the ACK carries the response's tag).
        if let (Some(tags), 200..) = (tx.rfc2543.as_mut(), code) {
            tags.response = response.to().and_then(|t| t.tag()).map(Into::into);
        }
        self.sent(now, id, code, bytes, out)
    }

    /// [`Layer::respond`] with the response with status `code` the layer writes itself from
    /// the transaction's request (`to_tag` for a To without one, then `tail`): the bytes
    /// [`Layer::respond`] would send for the message `Endpoint::response` and its caller
    /// build, written without building it (see `Message::plain_response`). `None`, having
    /// done nothing, when the request is given up or too large for that: build the message
    /// then.
    pub fn respond_plain(
        &mut self,
        now: Instant,
        id: TxId,
        code: u16,
        to_tag: Option<&str>,
        tail: &crate::msg::emit::Tail<'_>,
        out: &mut Outbox,
    ) -> Option<Result<Bytes, RespondError>> {
        if !(100..=699).contains(&code) {
            return Some(Err(RespondError::NotAResponse));
        }
        let tx = self.txs.get_mut(&id)?;
        if let Err(e) = may_answer(tx) {
            return Some(Err(e));
        }
        let request = self.reqs.get(tx.req)?;
        let blocks = Self::blocks_for(&mut self.blocks, &mut self.sent_once, tx.kind, code);
        let bytes = request.plain_response(code, to_tag, tail, tx.dest.addr, blocks)?;
        if let (Some(tags), 200..) = (tx.rfc2543.as_mut(), code) {
            // The response's To is the request's, given `to_tag` if it had no tag.
            tags.response = request
                .to()
                .and_then(|t| t.tag().or(to_tag))
                .map(Into::into);
        }
        Some(self.sent(now, id, code, bytes, out))
    }

    /// Server transaction `id` sent `bytes`, a response with status `code`: kept to be
    /// repeated, sent, and the transaction moved on (§17.2.1, §17.2.2).
    fn sent(
        &mut self,
        now: Instant,
        id: TxId,
        code: u16,
        bytes: Bytes,
        out: &mut Outbox,
    ) -> Result<Bytes, RespondError> {
        let tx = self.txs.get_mut(&id).ok_or(RespondError::Unknown)?;
        tx.last = Some(bytes.clone());
        tx.last_status = code;
        let reliable = tx.reliable();
        let kind = tx.kind;
        if code >= 200 {
            self.finished(id);
        }
        self.transmit(&self.txs[&id], bytes.clone(), out);
        self.disarm(id, Timer::Trying);
        let tx = self.txs.get_mut(&id).expect("live");
        match (kind, code) {
            (_, 100..=199) => tx.state = State::Proceeding,
            (Kind::InviteServer, 200..=299) => {
                tx.state = State::Accepted;
                self.arm(id, Timer::L, now + self.timers.t1x64());
            }
            (Kind::InviteServer, _) => {
                tx.state = State::Completed;
                if !reliable {
                    self.arm(id, Timer::G, now + self.timers.t1);
                }
                self.arm(id, Timer::H, now + self.timers.t1x64());
            }
            _ => {
                tx.state = State::Completed;
                self.linger(id, Timer::J, now, self.timers.t1x64());
            }
        }
        Ok(bytes)
    }

    /// Does `request` match a live server transaction (a retransmission, or an ACK)?
    pub fn matches_server(&self, request: &Message) -> bool {
        ServerKey::of(request, None).is_some_and(|k| self.find_server(&k).is_some())
    }

    /// RFC 3261 §8.2.2.2 for the request of new server transaction `id`: "If the request has
    /// no tag in the To header field, the UAS core MUST check the request against ongoing
    /// transactions. If the From tag, Call-ID, and CSeq exactly match those associated with
    /// an ongoing transaction, but the request does not match that transaction (based on the
    /// matching rules in Section 17.2.3), the UAS core SHOULD generate a 482 (Loop Detected)
    /// response". The ongoing transaction `id`'s request is a merged copy of; `None` when
    /// there is none, and then `id` is the one later copies are checked against until it
    /// ends. (A request that matched by §17.2.3 never gets here: it was a retransmission.)
    pub fn merged(&mut self, id: TxId) -> Option<TxId> {
        let key = super::key::MergeKey::of(self.request(id)?)?;
        let h = self.merges.hash(&key);
        if let Some(first) = self.merges.find(h, |t| t != id) {
            return Some(first);
        }
        if self.merge_hashes.insert(id, h).is_none() {
            self.merges.insert(h, id);
        }
        None
    }

    /// The INVITE server transaction a CANCEL targets (§9.2: the same match as §17.2.3 with
    /// the method INVITE).
    pub fn invite_for_cancel(&self, cancel: &Message) -> Option<TxId> {
        let key = ServerKey::of(cancel, Some(&Method::Invite))?;
        self.find_server(&key)
    }

    pub(super) fn invite_server_timer(
        &mut self,
        id: TxId,
        t: Timer,
        now: Instant,
        out: &mut Outbox,
    ) {
        let t2 = self.timers.t2;
        let tx = self.txs.get_mut(&id).expect("live");
        match (t, tx.state) {
            (Timer::Trying, State::Proceeding) if tx.last.is_none() => {
                // Replaced by the final: short-lived, a buffer of its own (see `lingers`).
                let Some(request) = self.reqs.get(tx.req) else {
                    return;
                };
                // Written straight from the request; built only if it cannot be.
                let tail = crate::msg::emit::Tail {
                    record_route: false,
                    server: None,
                    extra: &[],
                    body: &[],
                };
                let trying = match request.plain_response(100, None, &tail, tx.dest.addr, None) {
                    Some(bytes) => bytes,
                    None => {
                        let list = self.pool.take(crate::msg::pool::MIN);
                        let mut response = builder::response_in(request, 100, None, list);
                        crate::transport::stamp_via(&mut response, tx.dest.addr);
                        let bytes = response.to_bytes();
                        self.pool.recycle(response);
                        bytes
                    }
                };
                tx.last = Some(trying.clone());
                tx.last_status = 100;
                self.transmit(&self.txs[&id], trying, out);
            }
            (Timer::G, State::Completed) => {
                let interval = (tx.interval() * 2).min(t2);
                tx.set_interval(interval);
                let next = now + interval;
                let last = tx.last.clone().unwrap_or_default();
                out.retransmissions += 1;
                self.transmit(&self.txs[&id], last, out);
                self.arm(id, Timer::G, next);
            }
            (Timer::H, State::Completed) => {
                out.events.push_back(TxEvent::NoAck { tx: id });
                self.terminate(id, out);
            }
            (Timer::I | Timer::L, _) => self.terminate(id, out),
            _ => {}
        }
    }
}

/// Can `tx` take a response: a server transaction (else `Unknown`) that has not sent a final
/// one (else `Final`)?
fn may_answer(tx: &super::Tx) -> Result<(), RespondError> {
    match (tx.kind, tx.state) {
        (Kind::InviteServer, State::Proceeding)
        | (Kind::NonInviteServer, State::Trying | State::Proceeding) => Ok(()),
        (Kind::InviteServer | Kind::NonInviteServer, _) => Err(RespondError::Final),
        _ => Err(RespondError::Unknown),
    }
}

impl Layer {
    /// The blocks a response with status `code` on a server transaction of `kind` is cut
    /// from (see [`crate::Config::send_block`]): `lingering` for one the transaction repeats
    /// until it ends, 64·T1 later (a non-2xx final, §17.2.1 Timer H; a non-INVITE's final,
    /// §17.2.2 Timer J); `sent_once` for a 2xx to an INVITE, which the call repeats until
    /// its ACK — a round trip, 64·T1 at most (§13.3.1.4; the transaction gives it up at
    /// once, RFC 6026 §8.4), as a request is kept until its answer; none for a provisional,
    /// kept until the final response, which may come minutes later (a ringing call): it
    /// would keep a block alive that long.
    fn blocks_for<'b>(
        lingering: &'b mut crate::msg::emit::Blocks,
        sent_once: &'b mut crate::msg::emit::Blocks,
        kind: Kind,
        code: u16,
    ) -> Option<&'b mut crate::msg::emit::Blocks> {
        match code {
            300.. => Some(lingering),
            200..=299 if kind == Kind::NonInviteServer => Some(lingering),
            200..=299 => Some(sent_once),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Incoming, Layer};
    use crate::msg::emit::Tail;
    use crate::msg::Message;
    use crate::time::Instant;
    use crate::transaction::Outbox;
    use crate::transport::{Destination, Source};
    use crate::Transport;
    use alloc::format;
    use bytes::Bytes;

    fn request(layer: &mut Layer, method: &str, n: u32, out: &mut Outbox) -> super::TxId {
        let text = format!(
            "{method} sip:b@192.0.2.2 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKs{method}{n}\r\n\
             From: <sip:a@192.0.2.1>;tag=1\r\nTo: <sip:b@192.0.2.2>\r\nCall-ID: s{n}\r\n\
             CSeq: {n} {method}\r\nContent-Length: 0\r\n\r\n"
        );
        let m = Message::parse(Bytes::from(text), &Default::default()).unwrap();
        let remote = "192.0.2.1:5060".parse().unwrap();
        let source = Source {
            transport: Transport::Udp,
            remote,
            local: "192.0.2.2:5060".parse().unwrap(),
            conn: None,
        };
        let to = Destination::udp(remote);
        match layer.on_request(Instant::ZERO, m, &source, to, out) {
            Incoming::New(id) => id,
            _ => unreachable!("a new transaction"),
        }
    }

    fn answer(layer: &mut Layer, id: super::TxId, code: u16, out: &mut Outbox) -> Bytes {
        let tail = Tail {
            record_route: false,
            server: None,
            extra: &[],
            body: &[],
        };
        let sent = layer
            .respond_plain(Instant::ZERO, id, code, Some("t"), &tail, out)
            .expect("written")
            .expect("sent");
        out.transmits.clear();
        sent
    }

    /// Follows `a` in the same buffer?
    fn next_to(a: &Bytes, b: &Bytes) -> bool {
        a.as_ptr().wrapping_add(a.len()) == b.as_ptr()
    }

    /// Where the responses a server transaction sends are cut from (`Config::send_block`):
    /// 2xx to INVITEs one after another in the round-trip blocks (the call repeats each
    /// until its ACK), the finals of non-INVITEs in the lingering ones, and a provisional
    /// (kept until the final, which may come minutes later) in a buffer of its own. Without
    /// blocks, each in a buffer of its own.
    #[test]
    fn responses_are_cut_from_the_blocks_of_their_lifetime() {
        for block in [8192, 0] {
            let keys = crate::hashed::Keys::from_seed([3; 32]);
            let mut layer = Layer::new(Default::default(), block, 4, keys);
            let out = &mut Outbox::default();
            let (i1, i2) = (
                request(&mut layer, "INVITE", 1, out),
                request(&mut layer, "INVITE", 2, out),
            );
            let ringing = answer(&mut layer, i1, 180, out);
            let ok1 = answer(&mut layer, i1, 200, out);
            let ok2 = answer(&mut layer, i2, 200, out);
            let (b1, b2) = (
                request(&mut layer, "BYE", 3, out),
                request(&mut layer, "BYE", 4, out),
            );
            let bye1 = answer(&mut layer, b1, 200, out);
            let bye2 = answer(&mut layer, b2, 200, out);
            assert!(ok1.starts_with(b"SIP/2.0 200 OK\r\n"));
            assert_eq!(next_to(&ok1, &ok2), block > 0);
            assert_eq!(next_to(&bye1, &bye2), block > 0);
            assert!(!next_to(&ringing, &ok1));
            assert!(!next_to(&ok2, &bye1));
        }
    }
}
