//! RFC 5407 (example call flows of race conditions in SIP), every flow that applies to a user
//! agent, as deterministic tests: real endpoints joined by a wire the test controls message by
//! message (deliver this one now, hold that one, lose that one), so each crossing happens
//! exactly as the RFC draws it. Each test checks the answers on the wire and the events at
//! both ends, then lets everything settle and checks that every endpoint is empty.
//!
//! RFC 5407 §3.3.1 (re-INVITE crossover, 491 and the §14.1 retry timers) is
//! `sessions::glare_gets_491_and_each_side_retries_after_its_14_1_delay`; §3.3.2 (UPDATE and
//! re-INVITE crossover) does not apply: sipxfer does not send UPDATE, and answers it 405.

use bytes::Bytes;
use sipxfer::msg::{Message, Uri};
use sipxfer::{
    BlindOptions, CallId, CallOptions, CallState, Config, Duration, EndReason, Endpoint, Event,
    Instant, Transfer, TransferOutcome, Transport,
};
use std::net::SocketAddr;

const SDP_A: &[u8] = b"v=0\r\no=a 100 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";
const SDP_B: &[u8] = b"v=0\r\no=b 200 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";

/// `Terminated`, whatever the reason (the tests check reasons with `Net::ended`).
const ENDED: CallState = CallState::Terminated {
    reason: EndReason::LocalHangup,
};

const A: usize = 0;
const B: usize = 1;
const C: usize = 2;

/// Endpoints at 10.0.0.1, 10.0.0.2, … joined by a wire that delivers only what the test
/// says, one datagram at a time.
struct Net {
    eps: Vec<Endpoint>,
    addrs: Vec<SocketAddr>,
    now: Instant,
    /// Datagrams sent and not delivered yet: (from, to, bytes), in send order.
    wire: Vec<(usize, usize, Bytes)>,
    /// Every datagram sent: (from, label), in order.
    log: Vec<(usize, String)>,
    events: Vec<Vec<Event>>,
}

/// `INVITE`, `ACK`, `BYE`, … for a request; `200 INVITE`, `481 REFER`, … for a response.
fn label(bytes: &[u8]) -> String {
    let m = Message::parse(Bytes::copy_from_slice(bytes), &Default::default())
        .expect("endpoints send valid messages");
    let method = m.cseq().expect("CSeq").method.as_str().to_string();
    match m.status() {
        Some(code) => format!("{code} {method}"),
        None => method,
    }
}

impl Net {
    fn new(n: usize) -> Net {
        Net::with(n, |_, _| {})
    }

    fn with(n: usize, config: impl Fn(usize, &mut Config)) -> Net {
        let addrs: Vec<SocketAddr> = (0..n)
            .map(|i| format!("10.0.0.{}:5060", i + 1).parse().unwrap())
            .collect();
        let eps = (0..n)
            .map(|i| {
                let mut c = Config::new(addrs[i], [i as u8 + 1; 32]);
                config(i, &mut c);
                Endpoint::new(c, Instant::ZERO)
            })
            .collect();
        Net {
            eps,
            addrs,
            now: Instant::ZERO,
            wire: Vec::new(),
            log: Vec::new(),
            events: vec![Vec::new(); n],
        }
    }

    fn uri(&self, i: usize) -> Uri<sipxfer::SipStr> {
        Uri::parse(&format!("sip:u{i}@{}", self.addrs[i])).unwrap()
    }

    /// Moves what the endpoints sent onto the wire and what they reported into `events`.
    fn pump(&mut self) {
        for i in 0..self.eps.len() {
            while let Some(t) = self.eps[i].poll_transmit() {
                if t.bytes.is_empty() {
                    continue;
                }
                let to = self.addrs.iter().position(|&a| a == t.to).expect("a node");
                self.log.push((i, label(&t.bytes)));
                self.wire.push((i, to, t.bytes));
            }
            while let Some(e) = self.eps[i].poll_event() {
                self.events[i].push(e);
            }
        }
    }

    /// What is on the wire from `from`.
    fn in_flight(&self, from: usize) -> Vec<String> {
        self.wire
            .iter()
            .filter(|w| w.0 == from)
            .map(|w| label(&w.2))
            .collect()
    }

    fn take(&mut self, from: usize, what: &str) -> (usize, Bytes) {
        let i = self
            .wire
            .iter()
            .position(|w| w.0 == from && label(&w.2) == what)
            .unwrap_or_else(|| {
                panic!(
                    "no {what} from {from} on the wire: {:?}",
                    self.in_flight(from)
                )
            });
        let (_, to, bytes) = self.wire.remove(i);
        (to, bytes)
    }

    /// Delivers the oldest `what` from `from` (1 ms later).
    fn deliver(&mut self, from: usize, what: &str) {
        let (to, bytes) = self.take(from, what);
        self.now += Duration::from_millis(1);
        let now = self.now;
        for ep in &mut self.eps {
            ep.handle_timeout(now);
        }
        self.eps[to].handle_datagram(now, Transport::Udp, self.addrs[from], self.addrs[to], bytes);
        self.pump();
    }

    /// Loses the oldest `what` from `from`.
    fn lose(&mut self, from: usize, what: &str) {
        self.take(from, what);
    }

    /// Lets `d` pass, firing timers; the wire holds what was sent meanwhile.
    fn wait(&mut self, d: Duration) {
        let until = self.now + d;
        while let Some(t) = self
            .eps
            .iter()
            .filter_map(|e| e.poll_timeout())
            .min()
            .filter(|&t| t <= until)
        {
            self.now = self.now.max(t);
            let now = self.now;
            for ep in &mut self.eps {
                ep.handle_timeout(now);
            }
            self.pump();
        }
        self.now = until;
    }

    /// Delivers everything in order and runs every timer out (the application does nothing
    /// more); every endpoint must then be empty.
    fn settle(&mut self) {
        for _ in 0..100_000 {
            if let Some(&(from, _, ref b)) = self.wire.first() {
                let what = label(b);
                self.deliver(from, &what);
                continue;
            }
            let Some(t) = self.eps.iter().filter_map(|e| e.poll_timeout()).min() else {
                break;
            };
            self.now = self.now.max(t);
            let now = self.now;
            for ep in &mut self.eps {
                ep.handle_timeout(now);
            }
            self.pump();
        }
        for (i, ep) in self.eps.iter().enumerate() {
            let s = ep.stats();
            assert_eq!(
                (s.transactions, s.timers, s.dialogs, s.subscriptions),
                (0, 0, 0, 0),
                "endpoint {i} not empty: {s:?}"
            );
            assert_eq!(ep.calls().count(), 0, "endpoint {i} still has calls");
        }
    }

    /// What `i` sent, from log entry `since` on.
    fn sent(&self, i: usize, since: usize) -> Vec<&str> {
        self.log[since..]
            .iter()
            .filter(|l| l.0 == i)
            .map(|l| l.1.as_str())
            .collect()
    }

    /// The call states `i` reported, `Terminated` without its reason.
    fn states(&self, i: usize) -> Vec<CallState> {
        self.events[i]
            .iter()
            .filter_map(|e| match e {
                Event::CallState {
                    state: CallState::Terminated { .. },
                    ..
                } => Some(ENDED),
                Event::CallState { state, .. } => Some(*state),
                _ => None,
            })
            .collect()
    }

    fn ended(&self, i: usize) -> Vec<EndReason> {
        self.events[i]
            .iter()
            .filter_map(|e| match e {
                Event::CallState {
                    state: CallState::Terminated { reason },
                    ..
                } => Some(*reason),
                _ => None,
            })
            .collect()
    }

    fn incoming(&self, i: usize) -> Vec<CallId> {
        self.events[i]
            .iter()
            .filter_map(|e| match e {
                Event::IncomingCall { call, .. } => Some(*call),
                _ => None,
            })
            .collect()
    }

    /// `from` calls `to`; the INVITE arrives and `to` answers: the 200 is on the wire.
    fn answered(&mut self, from: usize, to: usize) -> (CallId, CallId) {
        let options = CallOptions {
            offer: Some(Bytes::from_static(SDP_A)),
            ..Default::default()
        };
        let uri = self.uri(to);
        let a = self.eps[from].call(self.now, uri, options).unwrap();
        self.pump();
        self.deliver(from, "INVITE");
        let b = *self.incoming(to).last().expect("IncomingCall");
        self.eps[to]
            .answer(self.now, b, Some(Bytes::from_static(SDP_B)))
            .unwrap();
        self.pump();
        (a, b)
    }

    /// A confirmed call from `from` to `to`, every message delivered.
    fn up(&mut self, from: usize, to: usize) -> (CallId, CallId) {
        let (a, b) = self.answered(from, to);
        self.deliver(to, "200 INVITE");
        self.deliver(from, "ACK");
        assert_eq!(self.states(to).last(), Some(&CallState::Confirmed));
        (a, b)
    }
}

/// RFC 5407 §3.1.1: the caller's INVITE retransmission reaches the callee after its 200 (the
/// Moratorium state). It is absorbed (RFC 6026 §8.5, the Accepted state): no second call, no
/// new answer to it beyond the 2xx retransmissions the callee's timer makes anyway.
#[test]
fn s3_1_1_invite_retransmission_in_the_moratorium_state() {
    let mut net = Net::new(2);
    let (_, _) = net.answered(A, B);
    // Timer A: the INVITE goes again before the 200 arrives.
    net.wait(Duration::from_millis(500));
    assert_eq!(net.in_flight(A), ["INVITE"]);
    // The 200 and its first retransmission are on the wire (T1 = 500 ms).
    assert_eq!(net.in_flight(B), ["200 INVITE", "200 INVITE"]);
    let mark = net.log.len();
    net.deliver(A, "INVITE");
    assert_eq!(net.sent(B, mark), Vec::<&str>::new(), "absorbed");
    assert_eq!(net.incoming(B).len(), 1, "one call");
    net.deliver(B, "200 INVITE");
    net.deliver(A, "ACK");
    net.deliver(B, "200 INVITE");
    net.deliver(A, "ACK");
    assert_eq!(net.states(A), [CallState::Calling, CallState::Confirmed]);
    assert_eq!(net.states(B), [CallState::Confirmed]);
    let (a, _) = (net.eps[A].calls().next().unwrap(), ());
    net.eps[A].hangup(net.now, a).unwrap();
    net.pump();
    net.settle();
    assert_eq!(net.ended(A), [EndReason::LocalHangup]);
    assert_eq!(net.ended(B), [EndReason::RemoteHangup]);
}

/// RFC 5407 §3.1.2: the caller's CANCEL crosses the callee's 200. The callee answers the
/// CANCEL 200 and nothing more (the INVITE has its final answer, RFC 3261 §9.2: no 487); the
/// caller ACKs the 200 and ends the session with a BYE (§9.1, §15).
#[test]
fn s3_1_2_cancel_crossing_the_2xx() {
    let mut net = Net::new(2);
    let options = CallOptions {
        offer: Some(Bytes::from_static(SDP_A)),
        ..Default::default()
    };
    let uri = net.uri(B);
    let a = net.eps[A].call(net.now, uri, options).unwrap();
    net.pump();
    net.deliver(A, "INVITE");
    let b = net.incoming(B)[0];
    net.eps[B].ring(net.now, b, 180).unwrap();
    net.pump();
    net.deliver(B, "180 INVITE");
    // Both act at once: B answers, A hangs up (a CANCEL: the call is not answered for A).
    net.eps[B]
        .answer(net.now, b, Some(Bytes::from_static(SDP_B)))
        .unwrap();
    net.eps[A].hangup(net.now, a).unwrap();
    net.pump();
    assert_eq!(net.in_flight(A), ["CANCEL"]);
    assert_eq!(net.in_flight(B), ["200 INVITE"]);
    let mark = net.log.len();
    net.deliver(A, "CANCEL");
    assert_eq!(net.sent(B, mark), ["200 CANCEL"]);
    net.deliver(B, "200 INVITE");
    assert_eq!(net.sent(A, mark), ["ACK", "BYE"]);
    net.settle();
    assert!(!net.log.iter().any(|l| l.1 == "487 INVITE"));
    assert_eq!(net.ended(A), [EndReason::LocalHangup]);
    assert_eq!(
        net.states(B),
        [CallState::Confirmed, ENDED],
        "B's call was answered, then ended by the BYE"
    );
    assert_eq!(net.ended(B), [EndReason::RemoteHangup]);
}

/// An incoming call from a scripted caller at 10.0.0.9 (the endpoint is node B of `net`):
/// INVITE text with CSeq 1, `sdp` as its body when given.
fn scripted_invite(call_id: &str, sdp: Option<&str>) -> String {
    let body = sdp.unwrap_or("");
    let ctype = if sdp.is_some() {
        "Content-Type: application/sdp\r\n"
    } else {
        ""
    };
    format!(
        "INVITE sip:u1@10.0.0.2:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-{call_id}-1\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@10.0.0.9>;tag=alice\r\n\
         To: <sip:u1@10.0.0.2>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:alice@10.0.0.9:5060>\r\n\
         {ctype}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// An in-dialog request of the scripted caller: `method` with CSeq `seq`, our tag `tag`.
fn scripted_request(call_id: &str, tag: &str, method: &str, seq: u32, body: &str) -> String {
    let ctype = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    format!(
        "{method} sip:u1@10.0.0.2:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-{call_id}-{method}{seq}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@10.0.0.9>;tag=alice\r\n\
         To: <sip:u1@10.0.0.2>;tag={tag}\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {seq} {method}\r\n\
         Contact: <sip:alice@10.0.0.9:5060>\r\n\
         {ctype}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// One endpoint answering a scripted caller at 10.0.0.9: feeds it text, returns the labels
/// of what it sent back (and the To tag of its 200 to the INVITE, once seen).
struct Callee {
    ep: Endpoint,
    now: Instant,
    tag: String,
}

impl Callee {
    fn new() -> Callee {
        let me: SocketAddr = "10.0.0.2:5060".parse().unwrap();
        Callee {
            ep: Endpoint::new(Config::new(me, [2; 32]), Instant::ZERO),
            now: Instant::ZERO,
            tag: String::new(),
        }
    }

    fn recv(&mut self, text: &str) -> Vec<String> {
        self.now += Duration::from_millis(1);
        self.ep.handle_datagram(
            self.now,
            Transport::Udp,
            "10.0.0.9:5060".parse().unwrap(),
            "10.0.0.2:5060".parse().unwrap(),
            Bytes::copy_from_slice(text.as_bytes()),
        );
        self.sent()
    }

    fn sent(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(t) = self.ep.poll_transmit() {
            let m = Message::parse(t.bytes.clone(), &Default::default()).unwrap();
            if m.status() == Some(200) && m.cseq().unwrap().seq == 1 {
                self.tag = m.to().unwrap().tag().unwrap().to_string();
            }
            out.push(label(&t.bytes));
        }
        out
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.ep.poll_event()).collect()
    }

    /// Runs every timer out, dropping what is sent; the endpoint must end empty.
    fn settle(&mut self) -> Vec<String> {
        let mut sent = Vec::new();
        while let Some(t) = self.ep.poll_timeout() {
            self.now = self.now.max(t);
            self.ep.handle_timeout(self.now);
            sent.extend(self.sent());
        }
        let s = self.ep.stats();
        assert_eq!((s.transactions, s.timers, s.dialogs), (0, 0, 0), "{s:?}");
        assert_eq!(self.ep.calls().count(), 0);
        sent
    }

    /// An incoming call answered (200 sent with `SDP_B`): the call.
    fn answered(&mut self, call_id: &str, sdp: Option<&str>) -> CallId {
        self.recv(&scripted_invite(call_id, sdp));
        let call = self
            .events()
            .into_iter()
            .find_map(|e| match e {
                Event::IncomingCall { call, .. } => Some(call),
                _ => None,
            })
            .expect("IncomingCall");
        self.ep
            .answer(self.now, call, Some(Bytes::from_static(SDP_B)))
            .unwrap();
        assert_eq!(self.sent(), ["200 INVITE"]);
        call
    }
}

const OFFER: &str = "v=0\r\no=alice 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";
const HOLD: &str = "v=0\r\no=alice 1 2 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=sendonly\r\n";

/// RFC 5407 §3.1.3: the caller ends the early dialog with a BYE (RFC 3261 §15 lets a caller
/// do so) while the callee's 200 is on its way: the callee, in the Moratorium state, answers
/// the BYE 200 and ends the call; the caller's ACK to the 200, arriving after, is absorbed,
/// and the 2xx retransmissions stop. (sipxfer as a caller ends an early dialog with CANCEL,
/// so only the callee's side is ours; the caller is scripted.)
#[test]
fn s3_1_3_bye_for_the_early_dialog_in_the_moratorium_state() {
    let mut b = Callee::new();
    b.answered("early-bye", Some(OFFER));
    let tag = b.tag.clone();
    assert_eq!(
        b.recv(&scripted_request("early-bye", &tag, "BYE", 2, "")),
        ["200 BYE"]
    );
    assert!(b.events().iter().any(|e| matches!(
        e,
        Event::CallState {
            state: CallState::Terminated {
                reason: EndReason::RemoteHangup
            },
            ..
        }
    )));
    assert_eq!(
        b.recv(&scripted_request("early-bye", &tag, "ACK", 1, "")),
        Vec::<String>::new()
    );
    assert!(b.settle().is_empty(), "no 2xx retransmission after the BYE");
}

/// RFC 5407 §3.1.4 (case 1, the offer in the INVITE): the caller's ACK is lost and its
/// re-INVITE reaches the callee, still in the Moratorium state. The re-INVITE (a higher CSeq)
/// could only have been sent after the ACK (RFC 3261 §14.1), so the callee takes it as the
/// ACK and answers it 200; the ACK retransmitted with the 2xx retransmission is absorbed.
#[test]
fn s3_1_4_reinvite_before_the_ack_offer_in_the_invite() {
    let mut net = Net::new(2);
    let (a, _) = net.answered(A, B);
    net.deliver(B, "200 INVITE");
    net.lose(A, "ACK");
    net.eps[A].hold(net.now, a).unwrap();
    net.pump();
    let mark = net.log.len();
    net.deliver(A, "INVITE");
    assert_eq!(net.sent(B, mark), ["200 INVITE"]);
    net.deliver(B, "200 INVITE");
    assert_eq!(net.sent(A, mark), ["ACK"]);
    net.deliver(A, "ACK");
    assert_eq!(
        net.states(A),
        [CallState::Calling, CallState::Confirmed, CallState::Held],
        "the hold went through"
    );
    assert_eq!(net.states(B), [CallState::Confirmed, CallState::Held]);
    net.eps[A].hangup(net.now, a).unwrap();
    net.pump();
    net.settle();
    assert_eq!(net.ended(B), [EndReason::RemoteHangup]);
}

/// RFC 5407 §3.1.5 (case 2, the offer in the 2xx, the answer in the lost ACK): a re-INVITE
/// reaching the callee before that ACK brings a new offer while the callee's own is still
/// unanswered; RFC 3261 §14.2 has such a collision answered 491, and the caller retries
/// after the ACK (retransmitted on the 2xx retransmission) has landed.
#[test]
fn s3_1_5_reinvite_before_the_ack_offer_in_the_2xx() {
    let mut b = Callee::new();
    b.answered("late-offer", None);
    let tag = b.tag.clone();
    assert_eq!(
        b.recv(&scripted_request("late-offer", &tag, "INVITE", 2, HOLD)),
        ["491 INVITE"]
    );
    // The ACK with the answer arrives at last; the retried re-INVITE goes through.
    assert!(b
        .recv(&scripted_request("late-offer", &tag, "ACK", 1, OFFER))
        .is_empty());
    assert!(b.events().iter().any(|e| matches!(
        e,
        Event::CallState {
            state: CallState::Confirmed,
            ..
        }
    )));
    assert_eq!(
        b.recv(&scripted_request("late-offer", &tag, "INVITE", 3, HOLD)),
        ["200 INVITE"]
    );
    b.recv(&scripted_request("late-offer", &tag, "ACK", 3, ""));
    assert_eq!(
        b.recv(&scripted_request("late-offer", &tag, "BYE", 4, "")),
        ["200 BYE"]
    );
    b.settle();
}

/// RFC 5407 §3.1.6: the caller's ACK is lost and its BYE reaches the callee in the Moratorium
/// state: the callee answers 200, ends the call and stops retransmitting its 2xx; the late
/// ACK is absorbed.
#[test]
fn s3_1_6_bye_before_the_ack() {
    let mut net = Net::new(2);
    let (a, _) = net.answered(A, B);
    net.deliver(B, "200 INVITE");
    net.lose(A, "ACK");
    net.eps[A].hangup(net.now, a).unwrap();
    net.pump();
    let mark = net.log.len();
    net.deliver(A, "BYE");
    assert_eq!(net.sent(B, mark), ["200 BYE"]);
    assert_eq!(net.states(B), [ENDED], "ended, never confirmed");
    net.deliver(B, "200 BYE");
    let mark = net.log.len();
    net.settle();
    assert!(
        net.sent(B, mark).is_empty(),
        "no 2xx retransmission after the BYE: {:?}",
        net.sent(B, mark)
    );
    assert_eq!(net.ended(A), [EndReason::LocalHangup]);
    assert_eq!(net.ended(B), [EndReason::RemoteHangup]);
}

/// RFC 5407 §3.2.1: both ends hang up at once, the BYEs cross: each answers the other's BYE
/// 200 (the dialog is in the Mortal state, a BYE is still answered), and each call ends once.
#[test]
fn s3_2_1_byes_crossing() {
    let mut net = Net::new(2);
    let (a, b) = net.up(A, B);
    net.eps[A].hangup(net.now, a).unwrap();
    net.eps[B].hangup(net.now, b).unwrap();
    net.pump();
    let mark = net.log.len();
    net.deliver(A, "BYE");
    net.deliver(B, "BYE");
    assert_eq!(net.sent(A, mark), ["200 BYE"]);
    assert_eq!(net.sent(B, mark), ["200 BYE"]);
    net.settle();
    assert_eq!(net.ended(A), [EndReason::LocalHangup]);
    assert_eq!(net.ended(B), [EndReason::LocalHangup]);
}

/// RFC 5407 §3.2.2: a re-INVITE crosses a BYE. The UA that sent the BYE (Mortal state) sends
/// no new request and accepts no new offer: the re-INVITE gets 481 (the invite usage is
/// gone, RFC 5057 §5.1); the other answers the BYE 200 and its re-INVITE's 481 is ACKed by
/// its transaction. Each call ends once.
#[test]
fn s3_2_2_reinvite_crossing_a_bye() {
    let mut net = Net::new(2);
    let (a, b) = net.up(A, B);
    net.eps[A].hold(net.now, a).unwrap();
    net.eps[B].hangup(net.now, b).unwrap();
    net.pump();
    let mark = net.log.len();
    net.deliver(A, "INVITE");
    assert_eq!(net.sent(B, mark), ["481 INVITE"]);
    net.deliver(B, "BYE");
    assert_eq!(net.sent(A, mark), ["200 BYE"]);
    net.deliver(B, "481 INVITE");
    assert_eq!(net.sent(A, mark), ["200 BYE", "ACK"]);
    net.settle();
    assert_eq!(net.ended(A), [EndReason::RemoteHangup]);
    assert_eq!(net.ended(B), [EndReason::LocalHangup]);
}

/// RFC 5407 §3.2.3: the 200 to a re-INVITE reaches its sender after that sender's BYE left
/// (Mortal state): the ACK still goes (it belongs to the INVITE transaction, not to the
/// dialog: RFC 3261 §13.2.2.4, §17.1), or the peer would retransmit its 2xx for 32 s.
#[test]
fn s3_2_3_reinvite_2xx_in_the_mortal_state() {
    let mut net = Net::new(2);
    let (a, _) = net.up(A, B);
    net.eps[A].hold(net.now, a).unwrap();
    net.pump();
    net.deliver(A, "INVITE");
    assert_eq!(net.in_flight(B), ["200 INVITE"]);
    net.eps[A].hangup(net.now, a).unwrap();
    net.pump();
    let mark = net.log.len();
    net.deliver(B, "200 INVITE");
    assert_eq!(net.sent(A, mark), ["ACK"]);
    net.deliver(A, "ACK");
    net.deliver(A, "BYE");
    let mark = net.log.len();
    net.settle();
    assert!(
        !net.sent(B, mark).contains(&"200 INVITE"),
        "the re-INVITE's 2xx was ACKed"
    );
    assert_eq!(net.ended(A), [EndReason::LocalHangup]);
    assert_eq!(net.ended(B), [EndReason::RemoteHangup]);
}

/// RFC 5407 §3.2.4: the callee hangs up before the ACK of its 200 arrives. RFC 3261 §15:
/// no BYE before that ACK (or before the 2xx retransmissions give up): the BYE leaves when the
/// ACK lands. When the ACK never comes, the BYE goes after 64·T1 (§13.3.1.4), and an ACK
/// arriving after it (the Mortal state) is absorbed.
#[test]
fn s3_2_4_ack_after_the_callee_hung_up() {
    // The ACK is late.
    let mut net = Net::new(2);
    let (_, b) = net.answered(A, B);
    net.eps[B].hangup(net.now, b).unwrap();
    net.pump();
    assert_eq!(net.in_flight(B), ["200 INVITE"], "no BYE yet");
    net.deliver(B, "200 INVITE");
    let mark = net.log.len();
    net.deliver(A, "ACK");
    assert_eq!(net.sent(B, mark), ["BYE"]);
    net.settle();
    assert_eq!(net.ended(A), [EndReason::RemoteHangup]);
    assert_eq!(net.ended(B), [EndReason::LocalHangup]);

    // The ACK is lost, every time.
    let mut net = Net::new(2);
    let (_, b) = net.answered(A, B);
    net.eps[B].hangup(net.now, b).unwrap();
    net.pump();
    let start = net.now;
    let mut late_ack = None;
    while !net.in_flight(B).contains(&"BYE".to_string()) {
        if let Some(w) = net.wire.first() {
            let (from, what) = (w.0, label(&w.2));
            if from == A && what == "ACK" {
                let (_, bytes) = net.take(A, "ACK");
                late_ack = Some(bytes);
            } else {
                net.deliver(from, &what);
            }
        } else {
            net.wait(Duration::from_millis(100));
        }
    }
    let waited = net.now.as_micros() - start.as_micros();
    assert!(
        (32_000_000..=32_600_000).contains(&waited),
        "BYE after 64·T1: {waited} µs"
    );
    // The held-back ACK arrives after the BYE left: nothing answers it.
    let mark = net.log.len();
    net.now += Duration::from_millis(1);
    let now = net.now;
    net.eps[B].handle_datagram(
        now,
        Transport::Udp,
        net.addrs[A],
        net.addrs[B],
        late_ack.expect("an ACK"),
    );
    net.pump();
    assert!(net.sent(B, mark).is_empty());
    net.settle();
    assert_eq!(net.ended(A), [EndReason::RemoteHangup]);
    assert_eq!(net.ended(B), [EndReason::NoAck]);
}

/// RFC 5407 §3.3.3: a REFER crosses a BYE. The UA that sent the BYE (Mortal state) does not
/// take on a transfer for a dialog it is ending: 481; the transferor learns it as a rejected
/// transfer, answers the BYE, and each call ends once.
#[test]
fn s3_3_3_refer_crossing_a_bye() {
    let mut net = Net::with(2, |_, c| c.auto_accept_transfers = true);
    let (a, b) = net.up(A, B);
    let target = Uri::parse("sip:carol@10.0.0.3:5060").unwrap();
    net.eps[B]
        .transfer(
            net.now,
            b,
            Transfer::Blind {
                target,
                options: BlindOptions {
                    hold: false,
                    ..Default::default()
                },
            },
        )
        .unwrap();
    net.eps[A].hangup(net.now, a).unwrap();
    net.pump();
    let mark = net.log.len();
    net.deliver(B, "REFER");
    assert_eq!(net.sent(A, mark), ["481 REFER"]);
    net.deliver(A, "BYE");
    assert_eq!(net.sent(B, mark), ["200 BYE"]);
    net.settle();
    let outcomes: Vec<TransferOutcome> = net.events[B]
        .iter()
        .filter_map(|e| match e {
            Event::TransferOutcome { outcome, .. } => Some(*outcome),
            _ => None,
        })
        .collect();
    assert_eq!(
        outcomes,
        [TransferOutcome::Rejected(481)],
        "the REFER's answer"
    );
    assert_eq!(net.ended(A), [EndReason::LocalHangup]);
    assert_eq!(net.ended(B), [EndReason::RemoteHangup]);
    assert_eq!(
        net.log
            .iter()
            .filter(|l| l.0 == A && l.1 == "INVITE")
            .count(),
        1,
        "A placed no call to the target"
    );
}

/// A NOTIFY crosses a BYE (RFC 5407 §3.3's "other race conditions", with RFC 5057 §5.2 and
/// RFC 6665 §4.1.3): the transferor hangs up its call with the transferee as soon as the
/// REFER is accepted, while the first NOTIFY is on its way. The BYE ends only the invite
/// usage: the subscription lives on, so the transferor answers that NOTIFY and the later
/// ones 200, and learns the outcome; the transferee's new call to the target is up.
#[test]
fn notify_crossing_a_bye() {
    let mut net = Net::with(3, |_, c| c.auto_accept_transfers = true);
    let (a, _) = net.up(A, B);
    let target = net.uri(C);
    net.eps[A]
        .transfer(
            net.now,
            a,
            Transfer::Blind {
                target,
                options: BlindOptions {
                    hold: false,
                    ..Default::default()
                },
            },
        )
        .unwrap();
    net.pump();
    net.deliver(A, "REFER");
    net.deliver(B, "202 REFER");
    assert_eq!(net.in_flight(B), ["NOTIFY", "INVITE"]);
    net.eps[A].hangup(net.now, a).unwrap();
    net.pump();
    let mark = net.log.len();
    net.deliver(B, "NOTIFY");
    net.deliver(A, "BYE");
    assert_eq!(net.sent(A, mark), ["200 NOTIFY"]);
    assert_eq!(net.sent(B, mark), ["200 BYE"]);
    // The target answers the transferee.
    net.deliver(B, "INVITE");
    let c = net.incoming(C)[0];
    net.eps[C]
        .answer(net.now, c, Some(Bytes::from_static(SDP_B)))
        .unwrap();
    net.pump();
    net.deliver(C, "200 INVITE");
    // The final NOTIFY waits for the answer to the first (RFC 6665 §4.2.2: one at a time).
    assert_eq!(net.in_flight(B), ["200 BYE", "ACK"]);
    net.deliver(A, "200 NOTIFY");
    let mark = net.log.len();
    net.deliver(B, "NOTIFY");
    assert_eq!(net.sent(A, mark), ["200 NOTIFY"]);
    let outcomes: Vec<TransferOutcome> = net.events[A]
        .iter()
        .filter_map(|e| match e {
            Event::TransferOutcome { outcome, .. } => Some(*outcome),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes, [TransferOutcome::Succeeded]);
    net.deliver(B, "ACK");
    assert!(net.states(C).contains(&CallState::Confirmed));
    // Everyone hangs up; everything ends.
    let calls: Vec<CallId> = net.eps[C].calls().collect();
    for call in calls {
        net.eps[C].hangup(net.now, call).unwrap();
    }
    net.pump();
    net.settle();
    assert_eq!(net.ended(A), [EndReason::LocalHangup]);
}
