//! Client transactions: INVITE (RFC 3261 §17.1.1, RFC 6026 §8.4) and non-INVITE (§17.1.2).

use super::{ClientKey, ClientKeyRef, Kind, Layer, Outbox, State, Timer, Tx, TxEvent, TxId, TxKey};
use crate::msg::{Header, Message, Method, StartLine};
use crate::time::Instant;
use crate::transport::{Destination, Transport};
use bytes::Bytes;
use smallvec::SmallVec;

/// Why a CANCEL could not be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CancelError {
    /// No such transaction, or not a client INVITE.
    NotInvite,
    /// A final response has arrived already (§9.1: nothing to cancel).
    TooLate,
}

/// The ACK for a non-2xx final response (§17.1.1.3): Request-URI, Call-ID, From, CSeq number
/// and the single top Via of the INVITE, the To of the response, the INVITE's Route headers.
pub(crate) fn ack_for(invite: &Message, response: &Message) -> Message {
    let mut headers = crate::msg::Headers::with_capacity(8);
    headers.share_text(&invite.headers);
    for e in invite.headers.entries() {
        let h = &e.header;
        match h {
            Header::Via(v) if !headers.iter().any(|h| matches!(h, Header::Via(_))) => {
                let mut one = SmallVec::new();
                one.extend(v.first().cloned());
                headers.push(Header::Via(one));
            }
            Header::MaxForwards(_) | Header::From(_) | Header::CallId(_) | Header::Route(_) => {
                headers.push_entry(e.clone())
            }
            Header::To(_) => {
                if let Some(to) = response.to() {
                    headers.push(Header::To(to.clone()));
                }
            }
            Header::CSeq(c) => {
                let mut c = c.clone();
                c.method = Method::Ack;
                headers.push(Header::CSeq(c));
            }
            _ => {}
        }
    }
    let uri = invite.request_uri().cloned();
    Message {
        start: StartLine::Request {
            method: Method::Ack,
            uri: uri.unwrap_or_else(|| crate::msg::Uri::Other {
                scheme: "sip".into(),
                opaque: "".into(),
            }),
        },
        headers,
        body: bytes::Bytes::new(),
    }
}

/// The CANCEL for a pending request (§9.1): same Request-URI, Call-ID, To, From and CSeq
/// number, method CANCEL, one Via equal to the request's top Via, the same Route headers.
pub(crate) fn cancel_for(request: &Message) -> Message {
    let mut m = ack_for(request, request);
    m.start = match m.start {
        StartLine::Request { uri, .. } => StartLine::Request {
            method: Method::Cancel,
            uri,
        },
        s => s,
    };
    let cseq = m.headers.iter().position(|h| matches!(h, Header::CSeq(_)));
    if let Some(i) = cseq {
        m.headers.edit(i, |h| {
            if let Header::CSeq(c) = h {
                c.method = Method::Cancel;
            }
        });
    }
    m
}

impl Layer {
    /// Starts a client transaction for `request`, whose top Via carries a fresh branch, and
    /// sends it (§17.1.1.2, §17.1.2.2). `key`: its key when the caller knows it (the branch
    /// it has just put in the Via, and the method), else read from the request. The
    /// transaction keeps the bytes it sent, not the message, whose header list serves the
    /// next message at once, while in cache.
    pub fn start_client(
        &mut self,
        now: Instant,
        dest: Destination,
        request: Message,
        key: Option<ClientKey>,
        internal: bool,
        out: &mut Outbox,
    ) -> TxId {
        let invite = request.method() == Some(&Method::Invite);
        // Cut from the blocks of the messages kept about a round trip (an INVITE that may
        // ring for minutes moves out at its first provisional: `Layer::keep_ringing`).
        let bytes = request.to_bytes_in(&mut self.sent_once);
        let key = key.or_else(|| ClientKey::of(&request));
        self.pool.recycle(request);
        self.start(now, dest, bytes, key, invite, internal, out)
    }

    /// [`Layer::start_client`] for a request the endpoint wrote itself, as bytes cut from
    /// [`Layer::sent_once`] (an INVITE, a BYE, NOTIFY, REFER or SUBSCRIBE written from
    /// its dialog, an INVITE that starts a call), under its key (the branch of the Via it
    /// wrote and its method, §17.1.3).
    pub fn start_client_written(
        &mut self,
        now: Instant,
        dest: Destination,
        bytes: Bytes,
        key: ClientKey,
        invite: bool,
        out: &mut Outbox,
    ) -> TxId {
        self.start(now, dest, bytes, Some(key), invite, false, out)
    }

    /// A client INVITE got its first provisional response: its request may now wait minutes
    /// for a final one (a call ringing), read only for its CANCEL, the ACK of a non-2xx or a
    /// challenge's retry (Timer A is over), so its bytes move out of the shared block they
    /// were cut from into a buffer of their own — that block is reclaimed once the messages
    /// of a round trip cut from it are done, rather than held for as long as the call rings.
    /// Bytes that were given a buffer of their own (no blocks, or a large INVITE) stay.
    fn keep_ringing(&mut self, id: TxId) {
        let Some(tx) = self.txs.get_mut(&id) else {
            return;
        };
        if let Some(sent) = tx.last.as_mut() {
            if !self.sent_once.gives_own(sent.len()) {
                *sent = Bytes::copy_from_slice(sent);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn start(
        &mut self,
        now: Instant,
        dest: Destination,
        bytes: Bytes,
        key: Option<ClientKey>,
        invite: bool,
        internal: bool,
        out: &mut Outbox,
    ) -> TxId {
        let id = self.alloc_id();
        // A CANCEL (the layer's only internal request) goes where its INVITE went, under its
        // top Via (§9.1), whatever its size.
        let sized = if internal {
            None
        } else {
            self.for_size(dest, &bytes)
        };
        let (dest, bytes, sized_to_tcp) = match sized {
            Some((dest, resized)) => {
                out.sized_to_tcp += 1;
                (dest, resized, true)
            }
            None => (dest, bytes, false),
        };
        let mut tx = self.client_tx(invite, dest, key, &bytes);
        tx.internal = internal;
        tx.sized_to_tcp = sized_to_tcp;
        self.transmit(&tx, bytes, out);
        self.insert(id, tx, None, None);
        self.arm_client(now, id, invite, dest);
        id
    }

    /// Where `request`, bound for `dest`, goes for its size, and its bytes then, when not as
    /// it is: over TCP to the same address when it is bound for UDP and larger than
    /// [`Layer::udp_request_limit`], its top Via saying `SIP/2.0/TCP` (RFC 3261 §18.1.1: "If
    /// a request is within 200 bytes of the path MTU, or if it is larger than 1300 bytes and
    /// the path MTU is unknown, the request MUST be sent using an RFC 2914 congestion
    /// controlled transport protocol, such as TCP. If this causes a change in the transport
    /// protocol from the one indicated in the top Via, the value in the top Via MUST be
    /// changed."). That request only — the next goes by its own destination, and over TCP
    /// only if it too is larger — with its CANCEL and the ACK of its non-2xx final, which
    /// follow it (§9.1, §17.1.1.3: the same top Via, to the same address, port and
    /// transport).
    pub(crate) fn for_size(
        &self,
        dest: Destination,
        request: &[u8],
    ) -> Option<(Destination, Bytes)> {
        let limit = self.udp_request_limit?;
        if dest.transport != Transport::Udp || request.len() <= limit {
            return None;
        }
        let bytes = crate::transport::with_via_transport(request, Transport::Udp, Transport::Tcp)?;
        Some((Destination::tcp(dest.addr), bytes))
    }

    /// A new client transaction, not yet sent nor inserted.
    fn client_tx(
        &self,
        invite: bool,
        dest: Destination,
        key: Option<ClientKey>,
        bytes: &Bytes,
    ) -> Tx {
        Tx {
            kind: if invite {
                Kind::InviteClient
            } else {
                Kind::NonInviteClient
            },
            state: if invite {
                State::Calling
            } else {
                State::Trying
            },
            dest,
            local: None,
            key: key.map(TxKey::Client),
            key_hash: 0,
            // The request is kept as sent until its answer: to be sent again (Timers A and
            // E, unreliable transports: §17.1.1.2, the same bytes), for its CANCEL and the
            // ACK of a non-2xx final, and for the rare reader that needs it again
            // (`Layer::request_copy` parses it).
            last: Some(bytes.clone()),
            last_status: 0,
            rfc2543: None,
            interval_us: super::micros(self.timers.t1),
            armed: SmallVec::new(),
            cancel_pending: false,
            cancelled: false,
            internal: false,
            sized_to_tcp: false,
            req: crate::slots::NONE,
        }
    }

    /// A new client transaction's timers: A or E (unreliable transports), and B or F
    /// (§17.1.1.2, §17.1.2.2).
    fn arm_client(&mut self, now: Instant, id: TxId, invite: bool, dest: Destination) {
        let (retransmit, timeout) = if invite {
            (Timer::A, Timer::B)
        } else {
            (Timer::E, Timer::F)
        };
        if !dest.transport.is_reliable() {
            self.arm(id, retransmit, now + self.timers.t1);
        }
        self.arm(id, timeout, now + self.timers.t1x64());
    }

    /// A response: matched per §17.1.3 and fed to its transaction. A response that matches
    /// none (a stray, which the caller drops and counts) is handed back as `Some`.
    pub fn on_response(
        &mut self,
        now: Instant,
        response: Message,
        out: &mut Outbox,
    ) -> Option<Message> {
        let id = ClientKeyRef::of(&response).and_then(|k| self.find_client(&k));
        let (Some(id), Some(code)) = (id, response.status()) else {
            return Some(response);
        };
        match self.txs[&id].kind {
            Kind::InviteClient => self.invite_client_response(now, id, code, response, out),
            _ => self.non_invite_client_response(now, id, code, response, out),
        }
        None
    }

    fn report(&mut self, id: TxId, response: Message, out: &mut Outbox) {
        if self.txs.get(&id).is_some_and(|t| t.internal) {
            self.pool.recycle(response);
        } else {
            out.events.push_back(TxEvent::Response { tx: id, response });
        }
    }

    fn invite_client_response(
        &mut self,
        now: Instant,
        id: TxId,
        code: u16,
        response: Message,
        out: &mut Outbox,
    ) {
        let state = self.txs[&id].state;
        match (state, code) {
            (State::Calling | State::Proceeding, 100..=199) => {
                self.disarm(id, Timer::A);
                if state == State::Calling {
                    self.keep_ringing(id);
                }
                if !self.txs[&id].cancelled {
                    self.disarm(id, Timer::B);
                    if code > 100 || state == State::Calling {
                        self.arm(id, Timer::C, now + self.timers.timer_c);
                    }
                }
                let tx = self.txs.get_mut(&id).expect("live");
                tx.state = State::Proceeding;
                let cancel = core::mem::take(&mut tx.cancel_pending);
                self.report(id, response, out);
                if cancel {
                    self.send_cancel(now, id, out);
                }
            }
            (State::Calling | State::Proceeding, 200..=299) => {
                for t in [Timer::A, Timer::B, Timer::C] {
                    self.disarm(id, t);
                }
                self.txs.get_mut(&id).expect("live").state = State::Accepted;
                self.finished(id);
                self.arm(id, Timer::M, now + self.timers.t1x64());
                self.report(id, response, out);
            }
            (State::Accepted, 200..=299) => self.report(id, response, out),
            (State::Calling | State::Proceeding, 300..=699) => {
                for t in [Timer::A, Timer::B, Timer::C] {
                    self.disarm(id, t);
                }
                // Repeated until Timer D (§17.1.1.2): a lifetime like that of a server's
                // final response, so cut from the same blocks. Made from the INVITE as sent,
                // read back (in Calling or Proceeding the transaction holds those bytes),
                // which the TU may read until the end of this input (a challenge's retry:
                // `Layer::request_copy`). (An INVITE that does not read back — a Request-URI
                // of the application's our parser refuses — has no ACK: the final comes
                // again until the peer's Timer H.)
                let invite = self.sent_request(id);
                let ack = invite
                    .as_ref()
                    .map(|request| ack_for(request, &response).to_bytes_in(&mut self.blocks));
                if let Some(invite) = invite {
                    let slot = self.reqs.insert(id, invite);
                    self.txs.get_mut(&id).expect("live").req = slot;
                }
                let tx = self.txs.get_mut(&id).expect("live");
                tx.last = ack.clone();
                tx.state = State::Completed;
                self.finished(id);
                if let Some(ack) = ack {
                    self.transmit(&self.txs[&id], ack, out);
                }
                self.report(id, response, out);
                self.linger(id, Timer::D, now, self.timers.timer_d);
            }
            (State::Completed, 300..=699) => {
                // §17.1.1.2: a retransmitted final gets the ACK again, the TU hears nothing.
                if let Some(ack) = self.txs[&id].last.clone() {
                    out.retransmissions += 1;
                    self.transmit(&self.txs[&id], ack, out);
                }
            }
            _ => {}
        }
    }

    fn non_invite_client_response(
        &mut self,
        now: Instant,
        id: TxId,
        code: u16,
        response: Message,
        out: &mut Outbox,
    ) {
        let tx = self.txs.get_mut(&id).expect("live");
        match (tx.state, code) {
            (State::Trying | State::Proceeding, 100..=199) => {
                tx.state = State::Proceeding;
                self.report(id, response, out);
            }
            (State::Trying | State::Proceeding, 200..=699) => {
                tx.state = State::Completed;
                self.finished(id);
                self.disarm(id, Timer::E);
                self.disarm(id, Timer::F);
                self.report(id, response, out);
                self.linger(id, Timer::K, now, self.timers.t4);
            }
            _ => {}
        }
    }

    /// Cancels a client INVITE (§9.1): the CANCEL goes out now if a provisional response has
    /// arrived, or on the first one otherwise.
    pub fn cancel(&mut self, now: Instant, id: TxId, out: &mut Outbox) -> Result<(), CancelError> {
        let tx = self
            .txs
            .get_mut(&id)
            .filter(|t| t.kind == Kind::InviteClient)
            .ok_or(CancelError::NotInvite)?;
        match tx.state {
            State::Calling => {
                tx.cancel_pending = true;
                Ok(())
            }
            State::Proceeding => {
                if !tx.cancelled {
                    self.send_cancel(now, id, out);
                }
                Ok(())
            }
            _ => Err(CancelError::TooLate),
        }
    }

    /// Sends client transaction `id`'s request again (Timers A, E), the bytes it kept
    /// (§17.1.1.2: the same request).
    fn retransmit_request(&mut self, id: TxId, out: &mut Outbox) {
        let Some(bytes) = self.txs.get(&id).and_then(|tx| tx.last.clone()) else {
            return;
        };
        out.retransmissions += 1;
        self.transmit(&self.txs[&id], bytes, out);
    }

    /// Sends the CANCEL of INVITE `id` (once). RFC 3261 §9.1: without a final response
    /// within 64·T1 of it, the INVITE transaction is over (Timer B stands for that wait), and
    /// Timer C, whose job was to cancel, is disarmed.
    fn send_cancel(&mut self, now: Instant, id: TxId, out: &mut Outbox) {
        let Some(tx) = self.txs.get_mut(&id) else {
            return;
        };
        if tx.cancelled {
            return;
        }
        tx.cancelled = true;
        let dest = tx.dest;
        let invite = self.sent_request(id);
        self.disarm(id, Timer::C);
        self.arm(id, Timer::B, now + self.timers.t1x64());
        // An INVITE that does not read back (a Request-URI of the application's our parser
        // refuses) has no CANCEL: the transaction still ends when Timer B fires.
        if let Some(invite) = invite {
            let cancel = cancel_for(&invite);
            self.pool.recycle(invite);
            self.start_client(now, dest, cancel, None, true, out);
        }
    }

    pub(super) fn invite_client_timer(
        &mut self,
        id: TxId,
        t: Timer,
        now: Instant,
        out: &mut Outbox,
    ) {
        let state = self.txs[&id].state;
        match t {
            Timer::A if state == State::Calling => {
                let tx = self.txs.get_mut(&id).expect("live");
                let interval = tx.interval() * 2;
                tx.set_interval(interval);
                let next = now + interval;
                self.retransmit_request(id, out);
                self.arm(id, Timer::A, next);
            }
            Timer::B if state == State::Calling || self.txs[&id].cancelled => {
                if !self.txs[&id].internal {
                    out.events.push_back(TxEvent::Timeout { tx: id });
                }
                // Ended once the TU has read the report (`Layer::shed_finished`): a call
                // that moves on to its next target (RFC 3261 §8.1.3.4) sends this INVITE
                // again, read back from the bytes it holds.
                self.end_after_reports(id);
            }
            Timer::C if state == State::Proceeding && !self.txs[&id].cancelled => {
                out.events.push_back(TxEvent::ProceedingTimeout { tx: id });
                self.send_cancel(now, id, out);
            }
            Timer::D | Timer::M => self.terminate(id, out),
            _ => {}
        }
    }

    pub(super) fn non_invite_client_timer(
        &mut self,
        id: TxId,
        t: Timer,
        now: Instant,
        out: &mut Outbox,
    ) {
        let t2 = self.timers.t2;
        let tx = self.txs.get_mut(&id).expect("live");
        match (t, tx.state) {
            (Timer::E, State::Trying | State::Proceeding) => {
                // §17.1.2.2: doubling up to T2 while Trying, every T2 once Proceeding.
                let interval = if tx.state == State::Trying {
                    (tx.interval() * 2).min(t2)
                } else {
                    t2
                };
                tx.set_interval(interval);
                let next = now + interval;
                self.retransmit_request(id, out);
                self.arm(id, Timer::E, next);
            }
            (Timer::F, State::Trying | State::Proceeding) => {
                if !tx.internal {
                    out.events.push_back(TxEvent::Timeout { tx: id });
                }
                self.terminate(id, out);
            }
            (Timer::K, _) => self.terminate(id, out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Layer, Outbox, State};
    use crate::msg::{Message, Method};
    use crate::time::Instant;
    use crate::transport::Destination;
    use alloc::format;
    use bytes::Bytes;

    fn parse(text: &str) -> Message {
        Message::parse(Bytes::copy_from_slice(text.as_bytes()), &Default::default()).unwrap()
    }

    /// A client INVITE's bytes are cut from the round-trip blocks; its first provisional
    /// (it may ring for minutes now) moves them to a buffer of their own, the same bytes,
    /// which its CANCEL and the ACK of its final are still made from. Without blocks they
    /// had a buffer of their own already, and stay where they are.
    #[test]
    fn a_ringing_invite_keeps_its_bytes_in_a_buffer_of_its_own() {
        ringing_invite(8192);
        ringing_invite(0);
    }

    fn ringing_invite(block: usize) {
        let keys = crate::hashed::Keys::from_seed([7; 32]);
        let mut layer = Layer::new(Default::default(), block, 4, keys);
        let mut out = Outbox::default();
        let head = "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKr1\r\n\
                    From: <sip:a@192.0.2.1>;tag=1\r\nTo: <sip:b@192.0.2.2>\r\nCall-ID: r\r\n";
        let invite = parse(&format!(
            "INVITE sip:b@192.0.2.2 SIP/2.0\r\n{head}CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
        ));
        let dest = Destination::udp("192.0.2.2:5060".parse().unwrap());
        let id = layer.start_client(Instant::ZERO, dest, invite, None, false, &mut out);
        let sent = out.transmits.pop_front().unwrap().bytes;
        let cut = layer.txs[&id].last.clone().unwrap();
        assert_eq!(cut.as_ptr(), sent.as_ptr());
        let ringing = parse(&format!(
            "SIP/2.0 180 Ringing\r\n{head}CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
        ));
        assert!(layer
            .on_response(Instant::ZERO, ringing, &mut out)
            .is_none());
        let kept = layer.txs[&id].last.clone().unwrap();
        assert_eq!(layer.txs[&id].state, State::Proceeding);
        assert_eq!(kept, sent);
        assert_eq!(kept.as_ptr() == sent.as_ptr(), block == 0);
        layer.cancel(Instant::ZERO, id, &mut out).unwrap();
        let cancel = out.transmits.pop_front().unwrap().bytes;
        assert!(cancel.starts_with(b"CANCEL sip:b@192.0.2.2 SIP/2.0\r\n"));
        let cancel = parse(core::str::from_utf8(&cancel).unwrap());
        assert_eq!(cancel.method(), Some(&Method::Cancel));
        assert_eq!(cancel.cseq().map(|c| c.seq), Some(1));
    }
}
