//! Large requests over TCP (RFC 3261 §18.1.1): "If a request is within 200 bytes of the path
//! MTU, or if it is larger than 1300 bytes and the path MTU is unknown, the request MUST be
//! sent using an RFC 2914 congestion controlled transport protocol, such as TCP. If this
//! causes a change in the transport protocol from the one indicated in the top Via, the value
//! in the top Via MUST be changed." And: "If the request is sent using TCP because of the
//! message size constraint, and the connection attempt generates an ICMP Protocol Not
//! Supported, or results in a TCP reset, the element SHOULD retry the request, using UDP."
//! Each test reads the messages on the wire: which transport each went over, and its bytes.

use bytes::Bytes;
use sipxfer::msg::{Header, HeaderName, Method, Uri};
use sipxfer::{CallId, CallOptions, CallState, EndReason, Endpoint, Event, Instant, Transport};
use sipxfer_tests::flows::{call_states, parse, reply, request, Manual};
use sipxfer_tests::sim::{Fate, Sim};
use std::net::SocketAddr;

/// An offer of many formats, as a softphone with every codec enabled sends: over 1 300
/// bytes with the INVITE's fields.
fn large_sdp() -> Bytes {
    sipxfer_tokio::demo::large_sdp("alice", "10.0.0.1:5060".parse().unwrap())
}

const SMALL_SDP: &[u8] =
    b"v=0\r\no=- 2 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";

/// A at 10.0.0.1, B at 10.0.0.2; A's `udp_request_limit` is `limit`.
fn two(limit: Option<usize>) -> Sim {
    let mut sim = Sim::new(18);
    sim.add_endpoint_tuned("10.0.0.1:5060", |c| c.udp_request_limit = limit);
    sim.add_endpoint("10.0.0.2:5060");
    sim
}

/// B's URI and address.
const BOB: &str = "sip:bob@10.0.0.2:5060";

fn bob_addr() -> SocketAddr {
    "10.0.0.2:5060".parse().unwrap()
}

/// A call to B offering [`large_sdp`].
fn call_large(ep: &mut Endpoint, now: Instant) -> CallId {
    let options = CallOptions {
        offer: Some(large_sdp()),
        ..Default::default()
    };
    ep.call(now, Uri::parse(BOB).unwrap(), options).unwrap()
}

/// An endpoint at A with digest credentials for any realm.
fn with_credentials() -> Manual {
    Manual::new(3, |c| {
        c.credentials
            .push(sipxfer::auth::Credentials::new("Mufasa", "Circle of Life"))
    })
}

/// A 401 to `sent` with a digest challenge of `algorithm`.
fn challenge_401(sent: &sipxfer::Message, algorithm: &str) -> sipxfer::Message {
    let mut r = reply(sent, 401, "srv", None);
    let value = format!(
        "Digest realm=\"example.org\", qop=\"auth\", nonce=\"abcdef0123456789\", algorithm={algorithm}"
    );
    r.headers.push(Header::Raw {
        name: HeaderName::WwwAuthenticate,
        value: value.as_str().into(),
    });
    r
}

/// What [`wire`] gives, borrowed and without the links' fates, to compare with a list.
#[allow(clippy::type_complexity)]
fn lines<'a>(
    got: &'a [(&'static str, Transport, String, String, Fate)],
) -> Vec<(&'static str, Transport, &'a str, &'a str)> {
    got.iter()
        .map(|(w, t, l, v, _)| (*w, *t, l.as_str(), v.as_str()))
        .collect()
}

/// Each logged message: its sender (A or B), transport, first line, and the sent-protocol
/// of its top Via.
fn wire(sim: &Sim) -> Vec<(&'static str, Transport, String, String, Fate)> {
    sim.log
        .iter()
        .map(|l| {
            let who = if l.from.to_string() == "10.0.0.1:5060" {
                "A"
            } else {
                "B"
            };
            let m = parse(&l.bytes);
            let via = m
                .top_via()
                .map(|v| v.transport.to_string())
                .unwrap_or_default();
            (who, l.transport, l.first_line().to_string(), via, l.fate)
        })
        .collect()
}

/// A calls B with the large offer; B rings and answers; A hangs up once the call is up.
fn call_and_hang_up(sim: &mut Sim) -> Vec<(Instant, Event)> {
    call_large(sim.ep(0), Instant::ZERO);
    let mut ea = vec![];
    sim.run_to_end(|ep, n, now, e| {
        match &e {
            Event::IncomingCall { call, .. } => {
                ep.ring(now, *call, 180).unwrap();
                ep.answer(now, *call, Some(Bytes::from_static(SMALL_SDP)))
                    .unwrap();
            }
            Event::CallState {
                call,
                state: CallState::Confirmed,
                ..
            } if n == 0 => ep.hangup(now, *call).unwrap(),
            _ => {}
        }
        if n == 0 {
            ea.push((now, e));
        }
    });
    ea
}

/// The bytes of `l` with its top Via's `SIP/2.0/TCP` written `SIP/2.0/UDP`.
fn as_udp(b: &[u8]) -> Vec<u8> {
    let s = String::from_utf8(b.to_vec()).unwrap();
    s.replacen("Via: SIP/2.0/TCP ", "Via: SIP/2.0/UDP ", 1)
        .into_bytes()
}

fn confirmed_then_hung_up(ea: &[(Instant, Event)]) {
    let states = call_states(ea);
    assert_eq!(states[states.len() - 2], (CallState::Confirmed, Some(200)));
    assert_eq!(
        states.last().unwrap().0,
        CallState::Terminated {
            reason: EndReason::LocalHangup
        }
    );
}

#[test]
fn a_large_invite_goes_over_tcp_with_its_via_saying_so() {
    let mut sim = two(Some(1300));
    let ea = call_and_hang_up(&mut sim);
    confirmed_then_hung_up(&ea);
    let got = wire(&sim);
    let lines = lines(&got);
    // The INVITE over TCP, its Via saying so; B answers on the connection, and its Contact
    // (the transport the INVITE came by: `;transport=tcp`) takes A's ACK and BYE there too.
    assert_eq!(
        lines,
        [
            (
                "A",
                Transport::Tcp,
                "INVITE sip:bob@10.0.0.2:5060 SIP/2.0",
                "TCP"
            ),
            ("B", Transport::Tcp, "SIP/2.0 180 Ringing", "TCP"),
            ("B", Transport::Tcp, "SIP/2.0 200 OK", "TCP"),
            (
                "A",
                Transport::Tcp,
                "ACK sip:10.0.0.2:5060;transport=tcp SIP/2.0",
                "TCP"
            ),
            (
                "A",
                Transport::Tcp,
                "BYE sip:10.0.0.2:5060;transport=tcp SIP/2.0",
                "TCP"
            ),
            ("B", Transport::Tcp, "SIP/2.0 200 OK", "TCP"),
        ]
    );
    let invite = &sim.log[0].bytes;
    assert!(invite.len() > 1300, "{}", invite.len());
    // A's Contact is as it would be over UDP: only the Via changed.
    let contact = parse(invite);
    let Some(sipxfer::msg::Contact::Addrs(c)) = contact.contact() else {
        panic!("a Contact")
    };
    assert_eq!(c[0].uri.to_string(), "sip:10.0.0.1:5060");
    // Byte for byte the INVITE A sends with no limit (the same seed: the same branch, tag
    // and Call-ID), but for the Via's transport.
    let mut udp = two(None);
    let ea = call_and_hang_up(&mut udp);
    confirmed_then_hung_up(&ea);
    assert_eq!(udp.log[0].transport, Transport::Udp);
    assert!(udp.log[0].first_line().starts_with("INVITE "));
    assert_eq!(as_udp(invite), udp.log[0].bytes.to_vec());
    assert!(udp.log.iter().all(|l| l.transport == Transport::Udp));
    let s = sim.ep(0).stats();
    assert_eq!((s.sized_to_tcp, s.back_to_udp, s.unreachable), (1, 0, 0));
    assert_eq!(udp.ep(0).stats().sized_to_tcp, 0);
    for n in [0, 1] {
        let s = sim.ep(n).stats();
        assert_eq!((s.transactions, s.timers, s.dialogs), (0, 0, 0), "{s:?}");
    }
}

/// An OPTIONS from A to B of exactly `len` bytes on the wire: the transport it went by, its
/// length, its Via's transport.
fn options_of(len: usize) -> (Transport, usize, String) {
    let send = |sim: &mut Sim, pad: usize| {
        let (a, b) = (sim.nodes[0].addr, sim.nodes[1].addr);
        let mut m = request(Method::Options, a, b, "sized", 1);
        m.headers.push(Header::Extension {
            name: "X-Pad".into(),
            value: "x".repeat(pad).as_str().into(),
        });
        sim.ep(0)
            .send_request(Instant::ZERO, sipxfer::Destination::udp(b), m)
            .unwrap();
        sim.run_to_end(|_, _, _, _| {});
    };
    // Measured with a field of 1 000 bytes, then the field that makes `len`.
    let mut probe = two(Some(1300));
    send(&mut probe, 1000);
    let base = probe.log[0].bytes.len();
    let mut sim = two(Some(1300));
    send(&mut sim, 1000 + len - base);
    let l = &sim.log[0];
    let via = parse(&l.bytes).top_via().unwrap().transport.to_string();
    // The answer comes back and the transaction ends either way.
    assert_eq!(sim.log[1].first_line(), "SIP/2.0 200 OK");
    assert_eq!(sim.log[1].transport, l.transport);
    (l.transport, l.bytes.len(), via)
}

#[test]
fn the_limit_is_1300_bytes_the_message_whole() {
    assert_eq!(options_of(1300), (Transport::Udp, 1300, "UDP".to_string()));
    assert_eq!(options_of(1301), (Transport::Tcp, 1301, "TCP".to_string()));
}

#[test]
fn with_no_limit_a_large_request_stays_on_udp() {
    let mut sim = two(None);
    call_and_hang_up(&mut sim);
    assert!(sim.log[0].bytes.len() > 1300);
    assert!(wire(&sim)
        .iter()
        .all(|(_, t, _, v, _)| *t == Transport::Udp && v == "UDP"));
}

#[test]
fn tcp_refused_the_request_goes_over_udp_in_the_same_transaction() {
    let mut sim = two(Some(1300));
    sim.refuse_tcp(1);
    let ea = call_and_hang_up(&mut sim);
    confirmed_then_hung_up(&ea);
    let got = wire(&sim);
    let lines: Vec<_> = got
        .iter()
        .map(|(w, t, l, v, f)| (*w, *t, l.as_str(), v.as_str(), *f))
        .collect();
    let d = Fate::Delivered;
    assert_eq!(
        lines,
        [
            (
                "A",
                Transport::Tcp,
                "INVITE sip:bob@10.0.0.2:5060 SIP/2.0",
                "TCP",
                Fate::Refused
            ),
            (
                "A",
                Transport::Udp,
                "INVITE sip:bob@10.0.0.2:5060 SIP/2.0",
                "UDP",
                d
            ),
            ("B", Transport::Udp, "SIP/2.0 180 Ringing", "UDP", d),
            ("B", Transport::Udp, "SIP/2.0 200 OK", "UDP", d),
            (
                "A",
                Transport::Udp,
                "ACK sip:10.0.0.2:5060 SIP/2.0",
                "UDP",
                d
            ),
            (
                "A",
                Transport::Udp,
                "BYE sip:10.0.0.2:5060 SIP/2.0",
                "UDP",
                d
            ),
            ("B", Transport::Udp, "SIP/2.0 200 OK", "UDP", d),
        ]
    );
    // The same request (the same branch: the same transaction), its Via as it was.
    assert_eq!(as_udp(&sim.log[0].bytes), sim.log[1].bytes.to_vec());
    let s = sim.ep(0).stats();
    assert_eq!((s.sized_to_tcp, s.back_to_udp, s.unreachable), (1, 1, 0));
}

#[test]
fn back_on_udp_timer_a_retransmits_until_timer_b() {
    // B refuses TCP and never answers: the INVITE, gone over UDP after all, is sent again
    // at T1, 2·T1, 4·T1 … (Timer A, §17.1.1.2) until Timer B ends it at 64·T1 from the
    // first send.
    let mut sim = Sim::new(18);
    sim.add_endpoint("10.0.0.1:5060");
    let b = sim.add_sink("10.0.0.2:5060");
    sim.refuse_tcp(b);
    call_large(sim.ep(0), Instant::ZERO);
    let mut ea = vec![];
    sim.run_to_end(|_, n, now, e| {
        if n == 0 {
            ea.push((now, e))
        }
    });
    let sent: Vec<_> = sim
        .log
        .iter()
        .map(|l| (l.at.as_millis(), l.transport, l.first_line().to_string()))
        .collect();
    let invite = "INVITE sip:bob@10.0.0.2:5060 SIP/2.0".to_string();
    let mut want = vec![(0, Transport::Tcp, invite.clone())];
    for at in [0, 500, 1500, 3500, 7500, 15500, 31500] {
        want.push((at, Transport::Udp, invite.clone()));
    }
    assert_eq!(sent, want);
    assert_eq!(
        call_states(&ea).last().unwrap(),
        &(
            CallState::Terminated {
                reason: EndReason::Timeout
            },
            Some(408)
        )
    );
}

#[test]
fn the_cancel_and_the_ack_of_a_non_2xx_follow_the_invite_over_tcp() {
    // RFC 3261 §9.1: a CANCEL has the top Via of the request it cancels and goes where it
    // went; §17.1.1.3: the ACK of a non-2xx final goes to the same address, port and
    // transport as the INVITE.
    let mut sim = two(Some(1300));
    let call = call_large(sim.ep(0), Instant::ZERO);
    sim.run_to_end(|ep, _, now, e| match e {
        Event::IncomingCall { call, .. } => ep.ring(now, call, 180).unwrap(),
        Event::CallState {
            state: CallState::Ringing,
            ..
        } => ep.hangup(now, call).unwrap(),
        _ => {}
    });
    let got = wire(&sim);
    let lines = lines(&got);
    assert_eq!(
        lines,
        [
            (
                "A",
                Transport::Tcp,
                "INVITE sip:bob@10.0.0.2:5060 SIP/2.0",
                "TCP"
            ),
            ("B", Transport::Tcp, "SIP/2.0 180 Ringing", "TCP"),
            (
                "A",
                Transport::Tcp,
                "CANCEL sip:bob@10.0.0.2:5060 SIP/2.0",
                "TCP"
            ),
            ("B", Transport::Tcp, "SIP/2.0 200 OK", "TCP"),
            ("B", Transport::Tcp, "SIP/2.0 487 Request Terminated", "TCP"),
            (
                "A",
                Transport::Tcp,
                "ACK sip:bob@10.0.0.2:5060 SIP/2.0",
                "TCP"
            ),
        ]
    );
    let m: Vec<_> = sim.log.iter().map(|l| parse(&l.bytes)).collect();
    let branch = m[0].top_via().unwrap().branch();
    assert_eq!(m[2].top_via().unwrap().branch(), branch);
    assert_eq!(m[5].top_via().unwrap().branch(), branch);
    // Small as they are, neither counts as sent over TCP for its size.
    assert_eq!(sim.ep(0).stats().sized_to_tcp, 1);
}

#[test]
fn a_request_that_grows_past_the_limit_with_credentials_goes_over_tcp() {
    // As pjsip notes of the same rule: an INVITE sent over UDP may be retried with
    // credentials after a 401 and be too large for UDP then; the retry (a new transaction,
    // RFC 3261 §22.2) goes over TCP, its own Via saying so.
    let invite_with = |pad: usize| {
        let mut m = with_credentials();
        let mut sdp = SMALL_SDP.to_vec();
        sdp.extend_from_slice(format!("a=x-pad:{}\r\n", "x".repeat(pad)).as_bytes());
        let options = CallOptions {
            offer: Some(Bytes::from(sdp)),
            ..Default::default()
        };
        let target = Uri::parse(BOB).unwrap();
        m.ep.call(m.now, target, options).unwrap();
        let first = m.ep.poll_transmit().unwrap();
        (m, first)
    };
    // An INVITE of 1 250 bytes: the pad measured at 500 bytes, then set.
    let (_, probe) = invite_with(500);
    let (mut m, first) = invite_with(500 + 1250 - probe.bytes.len());
    assert_eq!((first.transport, first.bytes.len()), (Transport::Udp, 1250));
    let sent = parse(&first.bytes);
    m.recv("10.0.0.2:5060", &challenge_401(&sent, "SHA-256"));
    let b = bob_addr();
    // The 401's ACK goes where the INVITE went (§17.1.1.3), then the retry.
    let ack = m.ep.poll_transmit().unwrap();
    assert_eq!(ack.transport, Transport::Udp);
    assert!(ack.bytes.starts_with(b"ACK "));
    let retry = m.ep.poll_transmit().unwrap();
    assert!(retry.bytes.len() > 1300, "{}", retry.bytes.len());
    assert_eq!(
        (retry.transport, retry.to, retry.conn),
        (Transport::Tcp, b, None)
    );
    let r = parse(&retry.bytes);
    assert_eq!(r.method(), Some(&Method::Invite));
    assert_eq!(r.top_via().unwrap().transport.as_str(), "TCP");
    assert_ne!(
        r.top_via().unwrap().branch(),
        sent.top_via().unwrap().branch()
    );
    assert_eq!(r.cseq().unwrap().seq, 2);
    assert!(r.headers.iter().any(|h| matches!(
        h,
        Header::Raw {
            name: HeaderName::Authorization,
            ..
        }
    )));
    assert!(m.ep.poll_transmit().is_none());
    assert_eq!(m.ep.stats().sized_to_tcp, 1);
}

#[test]
fn a_non_invite_back_on_udp_runs_timer_e_capped_at_t2_then_timer_k() {
    // §17.1.2.2: on UDP, Timer E doubles from T1 up to T2 (4 s); once answered, the
    // transaction lingers T4 (Timer K, 5 s) to absorb retransmitted responses — none of which
    // it would do on TCP.
    let send = |sim: &mut Sim| {
        let (a, b) = (sim.nodes[0].addr, sim.nodes[1].addr);
        let mut m = request(Method::Options, a, b, "fallback", 1);
        m.headers.push(Header::Extension {
            name: "X-Pad".into(),
            value: "x".repeat(1400).as_str().into(),
        });
        sim.ep(0)
            .send_request(Instant::ZERO, sipxfer::Destination::udp(b), m)
            .unwrap();
    };
    // Unanswered: E at 0.5, 1.5, 3.5, 7.5, then every 4 s; F at 32 s.
    let mut sim = Sim::new(18);
    sim.add_endpoint("10.0.0.1:5060");
    let b = sim.add_sink("10.0.0.2:5060");
    sim.refuse_tcp(b);
    send(&mut sim);
    let mut timeouts = 0;
    sim.run_to_end(|_, n, _, e| {
        if n == 0 && matches!(e, Event::Timeout { .. }) {
            timeouts += 1;
        }
    });
    let sent: Vec<_> = sim
        .log
        .iter()
        .map(|l| (l.at.as_millis(), l.transport))
        .collect();
    let mut want = vec![(0, Transport::Tcp), (0, Transport::Udp)];
    for at in [
        500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ] {
        want.push((at, Transport::Udp));
    }
    assert_eq!(sent, want);
    assert_eq!(timeouts, 1);
    // Answered: the transaction lingers Timer K after the 200.
    let mut sim = Sim::new(18);
    sim.add_endpoint("10.0.0.1:5060");
    let b = sim.add_endpoint("10.0.0.2:5060");
    sim.refuse_tcp(b);
    send(&mut sim);
    sim.run(Instant::from_millis(1000), |_, _, _, _| {});
    assert_eq!(sim.log[2].first_line(), "SIP/2.0 200 OK");
    assert_eq!(sim.ep(0).stats().transactions, 1);
    sim.run(Instant::from_millis(4900), |_, _, _, _| {});
    assert_eq!(sim.ep(0).stats().transactions, 1);
    sim.run(Instant::from_millis(5100), |_, _, _, _| {});
    assert_eq!(sim.ep(0).stats().transactions, 0);
}

#[test]
fn a_cancel_after_the_fallback_goes_over_udp_with_the_invites_via() {
    let mut sim = two(Some(1300));
    sim.refuse_tcp(1);
    let call = call_large(sim.ep(0), Instant::ZERO);
    sim.run_to_end(|ep, _, now, e| match e {
        Event::IncomingCall { call, .. } => ep.ring(now, call, 180).unwrap(),
        Event::CallState {
            state: CallState::Ringing,
            ..
        } => ep.hangup(now, call).unwrap(),
        _ => {}
    });
    let got = wire(&sim);
    let lines = lines(&got);
    assert_eq!(
        lines,
        [
            (
                "A",
                Transport::Tcp,
                "INVITE sip:bob@10.0.0.2:5060 SIP/2.0",
                "TCP"
            ),
            (
                "A",
                Transport::Udp,
                "INVITE sip:bob@10.0.0.2:5060 SIP/2.0",
                "UDP"
            ),
            ("B", Transport::Udp, "SIP/2.0 180 Ringing", "UDP"),
            (
                "A",
                Transport::Udp,
                "CANCEL sip:bob@10.0.0.2:5060 SIP/2.0",
                "UDP"
            ),
            ("B", Transport::Udp, "SIP/2.0 200 OK", "UDP"),
            ("B", Transport::Udp, "SIP/2.0 487 Request Terminated", "UDP"),
            (
                "A",
                Transport::Udp,
                "ACK sip:bob@10.0.0.2:5060 SIP/2.0",
                "UDP"
            ),
        ]
    );
    let m: Vec<_> = sim.log.iter().map(|l| parse(&l.bytes)).collect();
    assert_eq!(m[3].top_via(), m[1].top_via());
    assert_eq!(m[6].top_via(), m[1].top_via());
}

#[test]
fn a_challenged_large_invite_is_retried_over_tcp_with_the_same_fallback() {
    // The retry after a 401 (a new transaction, §22.2) starts from where the INVITE was
    // bound (UDP) and its own size sends it over TCP again; refused, it too goes over UDP.
    let mut m = with_credentials();
    call_large(&mut m.ep, m.now);
    let first = m.ep.poll_transmit().unwrap();
    assert_eq!(first.transport, Transport::Tcp);
    let sent = parse(&first.bytes);
    m.recv("10.0.0.2:5060", &challenge_401(&sent, "MD5"));
    let ack = m.ep.poll_transmit().unwrap();
    assert!(ack.bytes.starts_with(b"ACK "));
    assert_eq!(ack.transport, Transport::Tcp);
    let retry = m.ep.poll_transmit().unwrap();
    assert_eq!(retry.transport, Transport::Tcp);
    let tcp_retry = parse(&retry.bytes);
    assert_eq!(tcp_retry.top_via().unwrap().transport.as_str(), "TCP");
    assert_eq!(m.ep.stats().sized_to_tcp, 2);
    let b = bob_addr();
    m.ep.handle_unreachable(m.now, Transport::Tcp, b);
    let udp = m.ep.poll_transmit().unwrap();
    assert_eq!(udp.transport, Transport::Udp);
    assert_eq!(as_udp(&retry.bytes), udp.bytes.to_vec());
    let s = m.ep.stats();
    assert_eq!((s.sized_to_tcp, s.back_to_udp, s.unreachable), (2, 1, 0));
}

#[test]
fn an_acks_large_body_sends_it_over_tcp_and_a_small_one_over_udp() {
    // The ACK of a 2xx is a request outside any transaction (§13.2.2.4); with an answer in its
    // body it may be large, and the rule of §18.1.1 holds for it too.
    let mut m = Manual::new(5, |_| {});
    let b = bob_addr();
    for (body, transport, via) in [(1400, Transport::Tcp, "TCP"), (10, Transport::Udp, "UDP")] {
        let mut ack = request(Method::Ack, m.me, b, "ack-size", 1);
        ack.body = Bytes::from(vec![b'x'; body]);
        m.ep.send_ack(m.now, sipxfer::Destination::udp(b), ack)
            .unwrap();
        let t = m.ep.poll_transmit().unwrap();
        assert_eq!((t.transport, t.to), (transport, b));
        assert_eq!(parse(&t.bytes).top_via().unwrap().transport.as_str(), via);
    }
    assert_eq!(m.ep.stats().sized_to_tcp, 1);
}

#[test]
fn a_connection_reset_before_any_answer_sends_the_request_over_udp() {
    // The connection opened, then closed by the peer before any response (§18.1.1: "results
    // in a TCP reset"): the INVITE goes over UDP in the same transaction. Once answered, a
    // closed connection changes nothing (the server answers on a new one, §18.2.2).
    let b = bob_addr();
    let invite = |m: &mut sipxfer_tests::flows::Manual| {
        call_large(&mut m.ep, m.now);
        let t = m.ep.poll_transmit().unwrap();
        assert_eq!((t.transport, t.to, t.conn), (Transport::Tcp, b, None));
        let conn = sipxfer::ConnId(7);
        m.ep.handle_connection_opened(m.now, conn, Transport::Tcp, m.me, b);
        (t, conn)
    };
    let mut m = Manual::new(9, |_| {});
    let (tcp, conn) = invite(&mut m);
    m.ep.handle_connection_closed(m.now, conn);
    let udp = m.ep.poll_transmit().unwrap();
    assert_eq!((udp.transport, udp.to), (Transport::Udp, b));
    assert_eq!(as_udp(&tcp.bytes), udp.bytes.to_vec());
    assert!(m.ep.poll_transmit().is_none());
    let s = m.ep.stats();
    assert_eq!((s.sized_to_tcp, s.back_to_udp, s.unreachable), (1, 1, 0));
    // Answered (100 Trying) before the close: it stays as it is.
    let mut m = Manual::new(9, |_| {});
    let (tcp, conn) = invite(&mut m);
    let trying = sipxfer::msg::builder::response(&parse(&tcp.bytes), 100, None);
    m.recv("10.0.0.2:5060", &trying);
    m.ep.handle_connection_closed(m.now, conn);
    assert!(m.ep.poll_transmit().is_none());
    assert_eq!(m.ep.stats().back_to_udp, 0);
}

#[test]
fn a_late_forks_2xx_to_a_large_invite_is_acked_and_byed_where_the_call_was_bound() {
    // The INVITE went over TCP for its size only: the call's dialogs are bound for UDP where
    // a Contact names no transport (RFC 3263 §4.1), and so are the ACK and the BYE of a
    // fork that answers after the call ended (RFC 3261 §13.2.2.4).
    let b = bob_addr();
    let mut m = Manual::new(9, |_| {});
    let call = call_large(&mut m.ep, m.now);
    let t = m.ep.poll_transmit().unwrap();
    assert_eq!(t.transport, Transport::Tcp);
    let conn = sipxfer::ConnId(7);
    m.ep.handle_connection_opened(m.now, conn, Transport::Tcp, m.me, b);
    let invite = parse(&t.bytes);
    let ok = |tag: &str, contact: &str| reply(&invite, 200, tag, Some(contact)).to_bytes();
    let sent = |m: &mut Manual| {
        std::iter::from_fn(|| m.ep.poll_transmit())
            .map(|t| {
                let msg = parse(&t.bytes);
                let tag = msg.to().unwrap().tag().unwrap().to_string();
                (
                    t.transport,
                    t.to,
                    msg.method().unwrap().as_str().to_string(),
                    tag,
                )
            })
            .collect::<Vec<_>>()
    };
    m.ep.handle_stream_bytes(m.now, conn, &ok("y", "sip:y@10.0.0.2:5060"));
    assert_eq!(
        sent(&mut m),
        [(Transport::Udp, b, "ACK".into(), "y".into())]
    );
    m.ep.hangup(m.now, call).unwrap();
    assert_eq!(
        sent(&mut m),
        [(Transport::Udp, b, "BYE".into(), "y".into())]
    );
    let x: SocketAddr = "10.0.0.2:5062".parse().unwrap();
    m.ep.handle_stream_bytes(m.now, conn, &ok("x", "sip:x@10.0.0.2:5062"));
    assert_eq!(
        sent(&mut m),
        [
            (Transport::Udp, x, "ACK".into(), "x".into()),
            (Transport::Udp, x, "BYE".into(), "x".into())
        ]
    );
}
