//! What the endpoint answers on its own (RFC 3261 §8.2), asserted on the wire: the status
//! line, the headers each answer must carry, and where it is sent (§18.2.2, RFC 3581).

use bytes::Bytes;
use sipxfer::{Config, Endpoint, Event, Instant, Transmit, Transport};
use sipxfer_tests::rfc4475;
use std::net::SocketAddr;

const LOCAL: &str = "127.0.0.1:5060";

fn answer_from(bytes: &[u8], remote: &str) -> (Endpoint, Option<Transmit>) {
    let local: SocketAddr = LOCAL.parse().unwrap();
    let mut ep = Endpoint::new(Config::new(local, [1; 32]), Instant::ZERO);
    ep.handle_datagram(
        Instant::ZERO,
        Transport::Udp,
        remote.parse().unwrap(),
        local,
        Bytes::copy_from_slice(bytes),
    );
    let t = ep.poll_transmit();
    (ep, t)
}

fn answer(bytes: &[u8]) -> String {
    let (_, t) = answer_from(bytes, "192.0.2.1:5060");
    String::from_utf8(t.expect("an answer").bytes.to_vec()).unwrap()
}

fn has(resp: &str, line: &str) -> bool {
    resp.split("\r\n").any(|l| l == line)
}

#[test]
fn unknown_method_501_with_allow() {
    let r = answer(&rfc4475("intmeth.dat"));
    assert!(r.starts_with("SIP/2.0 501 Not Implemented\r\n"), "{r}");
    assert!(
        has(
            &r,
            "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, SUBSCRIBE"
        ),
        "{r}"
    );
    // §8.2.6.2: a To tag is added.
    assert!(
        r.split("\r\n")
            .any(|l| l.starts_with("To: ") && l.contains(";tag=")),
        "{r}"
    );
}

#[test]
fn known_unsupported_method_405_with_allow() {
    let r = answer(&rfc4475("cparam01.dat"));
    assert!(r.starts_with("SIP/2.0 405 Method Not Allowed\r\n"), "{r}");
    assert!(
        r.contains("\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, SUBSCRIBE\r\n")
    );
}

#[test]
fn unknown_require_420_with_unsupported() {
    let r = answer(&rfc4475("bext01.dat"));
    assert!(r.starts_with("SIP/2.0 420 Bad Extension\r\n"), "{r}");
    assert!(
        has(
            &r,
            "Unsupported: nothingSupportsThis, nothingSupportsThisEither"
        ),
        "{r}"
    );
}

#[test]
fn unknown_body_415_with_accept() {
    let r = answer(&rfc4475("invut.dat"));
    assert!(
        r.starts_with("SIP/2.0 415 Unsupported Media Type\r\n"),
        "{r}"
    );
    assert!(has(&r, "Accept: application/sdp, message/sipfrag"), "{r}");
}

#[test]
fn unsupported_scheme_416_and_accept_excluding_sdp_406() {
    assert!(answer(&rfc4475("unkscm.dat")).starts_with("SIP/2.0 416 "));
    assert!(answer(&rfc4475("sdp01.dat")).starts_with("SIP/2.0 406 Not Acceptable\r\n"));
}

#[test]
fn options_200_with_capabilities_even_at_max_forwards_0() {
    let r = answer(&rfc4475("zeromf.dat"));
    assert!(r.starts_with("SIP/2.0 200 OK\r\n"), "{r}");
    assert!(has(
        &r,
        "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, SUBSCRIBE"
    ));
    assert!(has(&r, "Accept: application/sdp, message/sipfrag"));
    assert!(r.ends_with("Content-Length: 0\r\n\r\n"));
}

#[test]
fn other_version_505() {
    let r = answer(&rfc4475("badvers.dat"));
    assert!(
        r.starts_with("SIP/2.0 505 Version Not Supported\r\n"),
        "{r}"
    );
}

#[test]
fn malformed_request_400_copies_the_fields_and_names_the_fault() {
    let r = answer(&rfc4475("scalar02.dat"));
    assert!(r.starts_with("SIP/2.0 400 Bad Request\r\n"), "{r}");
    // The CSeq that did not parse is copied verbatim, so the client can match the answer.
    assert!(has(&r, "CSeq: 36893488147419103232 REGISTER"), "{r}");
    assert!(
        r.contains("\r\nWarning: 399 127.0.0.1:5060 \"malformed CSeq header at byte "),
        "{r}"
    );
    // No From, To or Call-ID at all: still answered with what there is.
    let r = answer(&rfc4475("insuf.dat"));
    assert!(
        r.starts_with(
            "SIP/2.0 400 Bad Request\r\nVia: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\r\n"
        ),
        "{r}"
    );
}

#[test]
fn responses_and_acks_are_never_answered() {
    for f in ["bigcode.dat", "scalarlg.dat", "unreason.dat", "bcast.dat"] {
        let (ep, t) = answer_from(&rfc4475(f), "192.0.2.1:5060");
        assert!(t.is_none(), "{f}");
        let s = ep.stats();
        assert_eq!(s.malformed_dropped + s.stray_responses, 1, "{f}: {s:?}");
    }
    let ack = b"ACK sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: x ACK\r\n\r\n";
    assert!(answer_from(ack, "192.0.2.1:5060").1.is_none());
}

#[test]
fn response_goes_to_received_address_at_sent_by_port_or_rport() {
    let req = |via: &str| {
        format!(
            "OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {via};branch=z9hG4bK77\r\n\
             From: <sip:b@x>;tag=1\r\nTo: <sip:a@y>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\r\n"
        )
    };
    // §18.2.2: sent-by host is a name → received added, sent to the source IP at the
    // sent-by port.
    let (_, t) = answer_from(req("pc.example.com:5070").as_bytes(), "192.0.2.1:40000");
    let t = t.unwrap();
    assert_eq!(t.to, "192.0.2.1:5070".parse().unwrap());
    assert!(String::from_utf8_lossy(&t.bytes)
        .contains("Via: SIP/2.0/UDP pc.example.com:5070;branch=z9hG4bK77;received=192.0.2.1\r\n"));
    // No port: 5060.
    let (_, t) = answer_from(req("pc.example.com").as_bytes(), "192.0.2.1:40000");
    assert_eq!(t.unwrap().to, "192.0.2.1:5060".parse().unwrap());
    // RFC 3581: rport asks for the source port, filled in.
    let (_, t) = answer_from(
        req("pc.example.com:5070;rport").as_bytes(),
        "192.0.2.1:40000",
    );
    let t = t.unwrap();
    assert_eq!(t.to, "192.0.2.1:40000".parse().unwrap());
    assert!(
        String::from_utf8_lossy(&t.bytes).contains(";rport=40000"),
        "{:?}",
        t.bytes
    );
    assert_eq!(t.local, Some(LOCAL.parse().unwrap()));
}

#[test]
fn requests_for_the_application_become_events() {
    let local: SocketAddr = LOCAL.parse().unwrap();
    let mut ep = Endpoint::new(Config::new(local, [1; 32]), Instant::ZERO);
    let wire = rfc4475("esc01.dat");
    ep.handle_datagram(
        Instant::ZERO,
        Transport::Udp,
        "192.0.2.1:5060".parse().unwrap(),
        local,
        Bytes::from(wire),
    );
    assert!(ep.poll_transmit().is_none());
    match ep.poll_event() {
        Some(Event::IncomingCall {
            request, source, ..
        }) => {
            assert_eq!(request.cseq().unwrap().seq, 234234);
            assert_eq!(source.remote, "192.0.2.1:5060".parse().unwrap());
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn tcp_framing_error_answers_400_then_closes() {
    let local: SocketAddr = LOCAL.parse().unwrap();
    let mut ep = Endpoint::new(Config::new(local, [1; 32]), Instant::ZERO);
    let conn = sipxfer::ConnId(5);
    let remote = "192.0.2.1:40001".parse().unwrap();
    ep.handle_connection_opened(Instant::ZERO, conn, Transport::Tcp, local, remote);
    ep.handle_stream_bytes(Instant::ZERO, conn, &rfc4475("ncl.dat"));
    let t = ep.poll_transmit().unwrap();
    assert!(t.bytes.starts_with(b"SIP/2.0 400 Bad Request\r\n"));
    assert_eq!((t.conn, t.to, t.close_after), (Some(conn), remote, false));
    let close = ep.poll_transmit().unwrap();
    assert!(close.close_after && close.bytes.is_empty() && close.conn == Some(conn));
    assert_eq!(ep.stats().connections, 0);
    assert_eq!(ep.stats().stream_errors, 1);
}

#[test]
fn in_dialog_request_without_a_dialog_gets_481() {
    // wsinv's To carries a tag: it claims a dialog this endpoint does not have (§12.2.2).
    let r = answer(&rfc4475("wsinv.dat"));
    assert!(
        r.starts_with("SIP/2.0 481 Call/Transaction Does Not Exist\r\n"),
        "{r}"
    );
}

/// An OPTIONS from `from` with branch and Call-ID `n`.
fn options(n: usize) -> Bytes {
    Bytes::from(format!(
        "OPTIONS sip:e@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{n}\r\nMax-Forwards: 70\r\nFrom: <sip:a@192.0.2.1>;tag={n}\r\nTo: <sip:e@127.0.0.1>\r\nCall-ID: o{n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ))
}

/// An INVITE without offer, Call-ID and branch `n`.
fn invite(n: usize) -> Bytes {
    Bytes::from(format!(
        "INVITE sip:e@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.{n}:5060;branch=z9hG4bKi{n}\r\nMax-Forwards: 70\r\nFrom: <sip:a@192.0.2.{n}>;tag={n}\r\nTo: <sip:e@127.0.0.1>\r\nCall-ID: i{n}\r\nContact: <sip:a@192.0.2.{n}>\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    ))
}

/// At `max_transactions`, a new request ends a transaction that only lingers to absorb
/// retransmissions (an OPTIONS answered 200: Completed, Timer J) and is served; when every
/// transaction still waits for the application, the new request gets a stateless 503 with
/// Retry-After, and no transaction is created for it.
#[test]
fn at_max_transactions_lingering_ones_make_room_else_stateless_503() {
    let local: SocketAddr = LOCAL.parse().unwrap();
    let remote: SocketAddr = "192.0.2.1:5060".parse().unwrap();
    let mut config = Config::new(local, [1; 32]);
    config.max_transactions = 4;
    let mut ep = Endpoint::new(config, Instant::ZERO);
    let feed = |ep: &mut Endpoint, b: Bytes| {
        ep.handle_datagram(Instant::ZERO, Transport::Udp, remote, local, b);
        std::iter::from_fn(|| ep.poll_transmit())
            .map(|t| String::from_utf8(t.bytes.to_vec()).unwrap())
            .collect::<Vec<_>>()
    };
    for n in 0..6 {
        let out = feed(&mut ep, options(n));
        assert!(out[0].starts_with("SIP/2.0 200 OK\r\n"), "{out:?}");
    }
    let s = ep.stats();
    assert_eq!((s.transactions, s.overload_evictions), (4, 2));
    // Four INVITEs the application leaves unanswered take every place.
    for n in 10..14 {
        feed(&mut ep, invite(n));
    }
    while ep.poll_event().is_some() {}
    assert_eq!(ep.stats().transactions, 4);
    let out = feed(&mut ep, options(99));
    assert!(
        out[0].starts_with("SIP/2.0 503 Service Unavailable\r\n"),
        "{out:?}"
    );
    assert!(has(&out[0], "Retry-After: 5"), "{}", out[0]);
    let s = ep.stats();
    assert_eq!((s.transactions, s.overload_rejections), (4, 1));
}

/// `received` and `rport` (RFC 3261 §18.2.1, RFC 3581 §4) are in the top Via of every
/// response, whoever built it: the 100 Trying of the INVITE server transaction, a response
/// from `Endpoint::response`, and one the application built itself from the request.
#[test]
fn every_response_carries_received_and_rport() {
    let local: SocketAddr = LOCAL.parse().unwrap();
    let remote: SocketAddr = "192.0.2.1:40000".parse().unwrap();
    let mut config = Config::new(local, [1; 32]);
    config.allow.push(sipxfer::msg::Method::Message);
    let mut ep = Endpoint::new(config, Instant::ZERO);
    let req = |method: &str, call_id: &str| {
        Bytes::from(format!(
            "{method} sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP pc.example.com:5070;branch=z9hG4bK{call_id};rport\r\n\
             From: <sip:b@x>;tag=1\r\nTo: <sip:a@y>\r\nCall-ID: {call_id}\r\nCSeq: 1 {method}\r\n\
             Contact: <sip:b@192.0.2.1:40000>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        ))
    };
    let stamped = "Via: SIP/2.0/UDP pc.example.com:5070;branch=z9hG4bK";
    let tail = ";rport=40000;received=192.0.2.1\r\n";
    let sent = |ep: &mut Endpoint| {
        let t = ep.poll_transmit().expect("a response");
        assert_eq!(t.to, remote);
        String::from_utf8(t.bytes.to_vec()).unwrap()
    };
    // The INVITE server transaction's own 100 Trying, 200 ms on.
    ep.handle_datagram(
        Instant::ZERO,
        Transport::Udp,
        remote,
        local,
        req("INVITE", "i1"),
    );
    while ep.poll_event().is_some() {}
    ep.handle_timeout(Instant::from_millis(200));
    let trying = sent(&mut ep);
    assert!(trying.starts_with("SIP/2.0 100 Trying\r\n"), "{trying}");
    assert!(trying.contains(&format!("{stamped}i1{tail}")), "{trying}");
    // A response the application builds from the request itself, sent with `respond`.
    ep.handle_datagram(
        Instant::ZERO,
        Transport::Udp,
        remote,
        local,
        req("MESSAGE", "m1"),
    );
    let (tx, request) = match ep.poll_event() {
        Some(Event::Request { tx, request, .. }) => (tx, request),
        e => panic!("{e:?}"),
    };
    assert_eq!(
        request.top_via().unwrap().received(),
        None,
        "the request stays as received"
    );
    let own = sipxfer::msg::builder::response(&request, 202, Some("own"));
    ep.respond(Instant::ZERO, tx, own).unwrap();
    let r = sent(&mut ep);
    assert!(r.contains(&format!("{stamped}m1{tail}")), "{r}");
    // And one from `Endpoint::response`.
    ep.handle_datagram(
        Instant::ZERO,
        Transport::Udp,
        remote,
        local,
        req("MESSAGE", "m2"),
    );
    let Some(Event::Request { tx, .. }) = ep.poll_event() else {
        panic!("a request")
    };
    let r = ep.response(tx, 200).unwrap();
    ep.respond(Instant::ZERO, tx, r).unwrap();
    let r = sent(&mut ep);
    assert!(r.contains(&format!("{stamped}m2{tail}")), "{r}");
}

/// A request as a proxy forwards it: its own Via (branch `branch`) over the UAC's, the
/// UAC's From tag, Call-ID and CSeq.
fn forwarded(method: &str, branch: &str, proxy: &str, seq: u32, from_tag: &str) -> Bytes {
    Bytes::from(format!(
        "{method} sip:a@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP {proxy};branch=z9hG4bK{branch}\r\n\
         Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKuac{seq}\r\n\
         From: <sip:b@example.com>;tag={from_tag}\r\nTo: <sip:a@example.com>\r\n\
         Call-ID: forked-1@192.0.2.1\r\nCSeq: {seq} {method}\r\n\
         Contact: <sip:b@192.0.2.1:5060>\r\nMax-Forwards: 69\r\nContent-Length: 0\r\n\r\n"
    ))
}

/// Our endpoint and the two proxies a forked request reaches it through.
fn behind_two_proxies() -> (Endpoint, SocketAddr, SocketAddr) {
    let local: SocketAddr = LOCAL.parse().unwrap();
    let ep = Endpoint::new(Config::new(local, [1; 32]), Instant::ZERO);
    (
        ep,
        "192.0.2.10:5060".parse().unwrap(),
        "192.0.2.11:5060".parse().unwrap(),
    )
}

/// `b` from `from` at `at`: what the endpoint sends, with where to.
fn feed(ep: &mut Endpoint, at: Instant, from: SocketAddr, b: Bytes) -> Vec<(SocketAddr, String)> {
    ep.handle_datagram(at, Transport::Udp, from, LOCAL.parse().unwrap(), b);
    std::iter::from_fn(|| ep.poll_transmit())
        .map(|t| (t.to, String::from_utf8(t.bytes.to_vec()).unwrap()))
        .collect()
}

/// RFC 3261 §8.2.2.2: a copy of a request that reaches us again by another path (forked by
/// one proxy through two others, or looped) — no To tag, the From tag, Call-ID and CSeq of an
/// ongoing transaction, another branch — gets 482 (Loop Detected), sent back the way it came,
/// and the application hears of one call only; while ringing and after the 200 alike. A
/// retransmission (same branch) is not a copy; a new request of the same call (another CSeq)
/// or of another UAC (another From tag) is served.
#[test]
fn merged_request_482_while_the_first_is_ongoing() {
    let (mut ep, p1, p2) = behind_two_proxies();
    let t0 = Instant::ZERO;
    let out = feed(
        &mut ep,
        t0,
        p1,
        forwarded("INVITE", "p1a", "192.0.2.10:5060", 1, "u1"),
    );
    assert!(out.is_empty(), "{out:?}");
    let call = match ep.poll_event() {
        Some(Event::IncomingCall { call, .. }) => call,
        e => panic!("{e:?}"),
    };
    assert!(ep.poll_event().is_none());

    // The copy through the second proxy, while the first rings.
    let out = feed(
        &mut ep,
        t0,
        p2,
        forwarded("INVITE", "p2a", "192.0.2.11:5060", 1, "u1"),
    );
    assert_eq!(out.len(), 1, "{out:?}");
    let (to, r) = &out[0];
    assert_eq!(*to, p2);
    assert!(r.starts_with("SIP/2.0 482 Loop Detected\r\n"), "{r}");
    assert!(
        has(r, "Via: SIP/2.0/UDP 192.0.2.11:5060;branch=z9hG4bKp2a"),
        "{r}"
    );
    assert!(
        has(r, "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKuac1"),
        "{r}"
    );
    assert!(has(r, "CSeq: 1 INVITE"), "{r}");
    assert!(
        r.split("\r\n")
            .any(|l| l.starts_with("To: <sip:a@example.com>;tag=")),
        "{r}"
    );
    assert!(ep.poll_event().is_none(), "no second call");
    assert_eq!(ep.stats().merged_requests, 1);

    // A retransmission of the first is absorbed by its transaction, not answered 482.
    let out = feed(
        &mut ep,
        t0,
        p1,
        forwarded("INVITE", "p1a", "192.0.2.10:5060", 1, "u1"),
    );
    assert!(out.iter().all(|(_, r)| !r.contains(" 482 ")), "{out:?}");

    // Answered: the transaction is ongoing (Accepted, RFC 6026) and a late copy gets 482 too.
    ep.answer(t0, call, None).unwrap();
    let ok: Vec<_> = std::iter::from_fn(|| ep.poll_transmit()).collect();
    assert!(ok
        .iter()
        .any(|t| t.bytes.starts_with(b"SIP/2.0 200 OK\r\n")));
    while ep.poll_event().is_some() {}
    let out = feed(
        &mut ep,
        t0,
        p2,
        forwarded("INVITE", "p2b", "192.0.2.11:5060", 1, "u1"),
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(
        out[0].1.starts_with("SIP/2.0 482 Loop Detected\r\n"),
        "{}",
        out[0].1
    );
    assert!(ep.poll_event().is_none());
    assert_eq!(ep.stats().merged_requests, 2);

    // Another UAC's INVITE (another From tag) in the same Call-ID is no copy: it is served.
    let out = feed(
        &mut ep,
        t0,
        p2,
        forwarded("INVITE", "p2c", "192.0.2.11:5060", 1, "u2"),
    );
    assert!(out.iter().all(|(_, r)| !r.contains(" 482 ")), "{out:?}");
    assert!(matches!(ep.poll_event(), Some(Event::IncomingCall { .. })));
    assert_eq!(ep.stats().merged_requests, 2);
}

/// The check lasts as long as the transaction it checks against (§8.2.2.2: "ongoing"): an
/// OPTIONS answered 200 lingers 64·T1 (Timer J, §17.2.2) and a copy within that time gets
/// 482; once it has ended, the same request is new again and served; a new CSeq is served
/// at once.
#[test]
fn merged_request_check_ends_with_the_transaction() {
    let (mut ep, p1, p2) = behind_two_proxies();
    let feed = |ep: &mut Endpoint, at: Instant, from: SocketAddr, b: Bytes| {
        let out = feed(ep, at, from, b);
        assert_eq!(out.len(), 1, "{out:?}");
        out[0].1.lines().next().unwrap().to_owned()
    };
    let t0 = Instant::ZERO;
    let first = forwarded("OPTIONS", "o1", "192.0.2.10:5060", 7, "u1");
    assert_eq!(feed(&mut ep, t0, p1, first), "SIP/2.0 200 OK");
    let copy = || forwarded("OPTIONS", "o2", "192.0.2.11:5060", 7, "u1");
    let t1 = Instant::from_millis(1_000);
    assert_eq!(feed(&mut ep, t1, p2, copy()), "SIP/2.0 482 Loop Detected");
    let next = forwarded("OPTIONS", "o3", "192.0.2.11:5060", 8, "u1");
    assert_eq!(feed(&mut ep, t1, p2, next), "SIP/2.0 200 OK");
    // Timer J (32 s) ends the first transaction; the 482 lingers as long, unrelated.
    let later = Instant::from_millis(40_000);
    ep.handle_timeout(later);
    while ep.poll_transmit().is_some() {}
    let again = forwarded("OPTIONS", "o4", "192.0.2.11:5060", 7, "u1");
    assert_eq!(feed(&mut ep, later, p2, again), "SIP/2.0 200 OK");
    assert_eq!(ep.stats().merged_requests, 1);
}

/// A peer that writes its identifiers as pjsip and Asterisk do — a UUID for the Call-ID and
/// the tags, `z9hG4bKPj` + a UUID for each branch — gets every answer a call needs, its
/// identifiers echoed as they came (RFC 3261 §8.2.6.2), and its retransmissions matched to
/// their transactions (§17.2.3) though its branches fill the compact key almost to the end:
/// the INVITE's 100 (and again for the INVITE again) and 200, the ACK taken as the 200's, a
/// CANCEL that comes too late answered 200 without ending the call (§9.2), the BYE's 200 and
/// the same 200 again for the BYE sent again.
#[test]
fn a_peer_with_pjsip_identifiers_is_answered_and_matched() {
    let (mut ep, peer, _) = behind_two_proxies();
    let t0 = Instant::ZERO;
    let call_id = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
    let from_tag = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";
    let branch = |n: u32| format!("z9hG4bKPj{n:08x}-7e6d-4c5b-9a89-7f6e5d4c3b2a");
    let request = |method: &str, b: &str, seq: u32, to_tag: &str| {
        Bytes::from(format!(
            "{method} sip:a@127.0.0.1:5060 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.0.2.10:5060;rport;branch={b}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:b@192.0.2.10>;tag={from_tag}\r\nTo: <sip:a@127.0.0.1>{to_tag}\r\n\
             Contact: <sip:b@192.0.2.10:5060;ob>\r\nCall-ID: {call_id}\r\n\
             CSeq: {seq} {method}\r\nContent-Length: 0\r\n\r\n"
        ))
    };
    let status = |out: &[(SocketAddr, String)]| -> Vec<String> {
        out.iter()
            .map(|(_, m)| m.lines().next().unwrap_or_default().to_string())
            .collect()
    };
    let echoes = |m: &str, b: &str| {
        has(m, &format!("Call-ID: {call_id}"))
            && m.contains(&format!(";tag={from_tag}\r\n"))
            && m.contains(&format!("branch={b}"))
    };
    let sent = |ep: &mut Endpoint| -> Vec<(SocketAddr, String)> {
        std::iter::from_fn(|| ep.poll_transmit())
            .map(|t| (t.to, String::from_utf8(t.bytes.to_vec()).unwrap()))
            .collect()
    };
    let invite = request("INVITE", &branch(1), 1, "");
    assert!(feed(&mut ep, t0, peer, invite.clone()).is_empty());
    let call = std::iter::from_fn(|| ep.poll_event())
        .find_map(|e| match e {
            Event::IncomingCall { call, .. } => Some(call),
            _ => None,
        })
        .expect("the call");
    // Not answered within 200 ms: 100 Trying (§17.2.1); the INVITE again gets it again from
    // its transaction, and makes no second call.
    let t1 = t0 + sipxfer::Duration::from_millis(200);
    ep.handle_timeout(t1);
    let out = sent(&mut ep);
    assert_eq!(status(&out), ["SIP/2.0 100 Trying"]);
    assert!(echoes(&out[0].1, &branch(1)));
    assert_eq!(feed(&mut ep, t1, peer, invite), out);
    assert!(
        std::iter::from_fn(|| ep.poll_event()).all(|e| !matches!(e, Event::IncomingCall { .. }))
    );
    ep.answer(t1, call, None).unwrap();
    let out = sent(&mut ep);
    assert_eq!(status(&out), ["SIP/2.0 200 OK"]);
    assert!(echoes(&out[0].1, &branch(1)));
    let to_tag = out[0]
        .1
        .lines()
        .find(|l| l.starts_with("To: "))
        .and_then(|l| l.split(";tag=").nth(1))
        .expect("our tag")
        .to_string();
    let to_tag = format!(";tag={to_tag}");
    // The ACK of the 200 (its own branch): no answer; the call is confirmed.
    assert!(feed(&mut ep, t1, peer, request("ACK", &branch(2), 1, &to_tag)).is_empty());
    assert!(std::iter::from_fn(|| ep.poll_event()).any(|e| matches!(
        e,
        Event::CallState {
            state: sipxfer::CallState::Confirmed,
            ..
        }
    )));
    // A CANCEL of the INVITE (its branch) after the 200: 200 for the CANCEL, nothing more.
    let out = feed(&mut ep, t1, peer, request("CANCEL", &branch(1), 1, ""));
    assert_eq!(status(&out), ["SIP/2.0 200 OK"]);
    assert!(has(&out[0].1, "CSeq: 1 CANCEL") && echoes(&out[0].1, &branch(1)));
    assert!(ep.calls().any(|c| c == call));
    // The BYE, and the BYE again: the same 200 twice, the second from its transaction.
    let bye = request("BYE", &branch(3), 2, &to_tag);
    let first = feed(&mut ep, t1, peer, bye.clone());
    assert_eq!(status(&first), ["SIP/2.0 200 OK"]);
    assert!(has(&first[0].1, "CSeq: 2 BYE") && echoes(&first[0].1, &branch(3)));
    assert!(first[0]
        .1
        .contains(&format!("To: <sip:a@127.0.0.1>{to_tag}\r\n")));
    assert!(!ep.calls().any(|c| c == call));
    let t2 = t1 + sipxfer::Duration::from_millis(500);
    assert_eq!(feed(&mut ep, t2, peer, bye), first);
}
