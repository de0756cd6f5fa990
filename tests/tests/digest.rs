//! Digest authentication as a client (RFC 3261 §22, RFC 8760, RFC 7616): a challenged
//! INVITE and a challenged BYE are retried once with credentials, with MD5 and SHA-256, on the
//! RFC 7616 §3.9.1 example values, over UDP and over TCP (where the challenged transaction
//! ends with its final response, RFC 3261 §17.1.1.2 and §17.1.2.2: its request is still read
//! for the retry); the same nonce challenged twice fails the request.

use bytes::Bytes;
use sipxfer::auth::{Challenge, Credentials};
use sipxfer::msg::{Header, HeaderName, Message, Uri};
use sipxfer::{CallOptions, CallState, EndReason, Event};
use sipxfer_tests::flows::{reply, Manual};

const REALM: &str = "http-auth@example.org";
const NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
const OPAQUE: &str = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
const B: &str = "10.0.0.2:5060";

fn challenge(alg: &str, nonce: &str) -> String {
    format!(
        "Digest realm=\"{REALM}\", qop=\"auth, auth-int\", algorithm={alg}, nonce=\"{nonce}\", opaque=\"{OPAQUE}\""
    )
}

fn challenged(req: &Message, code: u16, alg: &str, nonce: &str) -> Message {
    let mut r = reply(req, code, "srv", None);
    let name = if code == 407 {
        HeaderName::ProxyAuthenticate
    } else {
        HeaderName::WwwAuthenticate
    };
    r.headers.push(Header::Raw {
        name,
        value: challenge(alg, nonce).as_str().into(),
    });
    r
}

fn credentials_of(m: &Message, name: HeaderName) -> Vec<(String, String)> {
    let v = m
        .headers
        .iter()
        .find_map(|h| match h {
            Header::Raw { name: n, value } if *n == name => Some(value.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no {name} in\n{m:?}"));
    let v = v.strip_prefix("Digest ").unwrap();
    v.split(", ")
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.trim_matches('"').to_string())
        })
        .collect()
}

fn get<'a>(kv: &'a [(String, String)], k: &str) -> &'a str {
    &kv.iter().find(|(n, _)| n == k).unwrap().1
}

/// The credentials are right: recompute `response` from the RFC 7616 §3.9.1 user and
/// password and the values the request carries.
fn check(m: &Message, name: HeaderName, alg: &str, nc: &str) {
    let kv = credentials_of(m, name);
    assert_eq!(get(&kv, "username"), "Mufasa");
    assert_eq!(get(&kv, "realm"), REALM);
    assert_eq!(get(&kv, "nonce"), NONCE);
    assert_eq!(get(&kv, "algorithm"), alg);
    assert_eq!(get(&kv, "qop"), "auth");
    assert_eq!(get(&kv, "nc"), nc);
    assert_eq!(get(&kv, "opaque"), OPAQUE);
    let uri = sipxfer::msg::emit::uri_to_string(m.request_uri().unwrap());
    assert_eq!(get(&kv, "uri"), uri);
    let c = Challenge::parse(&challenge(alg, NONCE)).unwrap();
    let want = c.response(
        "Mufasa",
        "Circle of Life",
        m.method().unwrap().as_str(),
        &uri,
        u32::from_str_radix(nc, 16).unwrap(),
        get(&kv, "cnonce"),
    );
    assert_eq!(get(&kv, "response"), want);
}

fn caller() -> Manual {
    Manual::new(1, |c| {
        c.credentials
            .push(Credentials::new("Mufasa", "Circle of Life"));
    })
}

fn bob() -> Uri<sipxfer::SipStr> {
    Uri::parse("sip:bob@10.0.0.2:5060").unwrap()
}

#[test]
fn invite_and_bye_challenged_with_md5_and_sha256() {
    for ((alg, code), params) in [
        ("MD5", 401),
        ("SHA-256", 407),
        ("SHA-256", 401),
        ("MD5", 407),
    ]
    .into_iter()
    .flat_map(|c| [(c, ""), (c, ";transport=tcp")])
    {
        let bob = || Uri::parse(&format!("sip:bob@10.0.0.2:5060{params}")).unwrap();
        let name = if code == 407 {
            HeaderName::ProxyAuthorization
        } else {
            HeaderName::Authorization
        };
        let mut a = caller();
        let offer = CallOptions {
            offer: Some(Bytes::from_static(b"v=0\r\n")),
            ..Default::default()
        };
        let call = a.ep.call(a.now, bob(), offer).unwrap();
        let invite = a.sent().remove(0);
        a.recv(B, &challenged(&invite, code, alg, NONCE));
        // The transaction ACKs the 401/407; the INVITE goes again: same Call-ID and From
        // tag, CSeq one higher, a new branch, the credentials.
        let out = a.sent();
        assert_eq!(out.len(), 2, "{alg} {code} {params}");
        assert_eq!(out[0].method().unwrap().as_str(), "ACK");
        let again = &out[1];
        assert_eq!(again.method().unwrap().as_str(), "INVITE");
        assert_eq!(again.call_id(), invite.call_id());
        assert_eq!(again.from().unwrap().tag(), invite.from().unwrap().tag());
        assert_eq!(again.cseq().unwrap().seq, 2);
        assert_eq!(again.body, invite.body);
        assert_ne!(
            again.top_via().unwrap().branch(),
            invite.top_via().unwrap().branch()
        );
        assert_eq!(
            again
                .headers
                .iter()
                .filter(|h| matches!(h, Header::Via(_)))
                .count(),
            1
        );
        check(again, name, alg, "00000001");
        // Accepted: the call is up on the retried INVITE's CSeq.
        let contact = format!("sip:bob@10.0.0.2:5060{params}");
        a.recv(B, &reply(again, 200, "bob", Some(&contact)));
        let ack = a.sent().remove(0);
        assert_eq!(
            (ack.method().unwrap().as_str(), ack.cseq().unwrap().seq),
            ("ACK", 2)
        );
        // The BYE is challenged too (same nonce, a new request: nonce count 2).
        a.ep.hangup(a.now, call).unwrap();
        let bye = a.sent().remove(0);
        assert_eq!(bye.cseq().unwrap().seq, 3);
        a.recv(B, &challenged(&bye, code, alg, NONCE));
        let bye2 = a.sent().remove(0);
        assert_eq!(bye2.method().unwrap().as_str(), "BYE");
        assert_eq!(bye2.cseq().unwrap().seq, 4);
        check(&bye2, name, alg, "00000002");
        a.recv(B, &reply(&bye2, 200, "bob", None));
        let states: Vec<CallState> = a
            .events()
            .into_iter()
            .filter_map(|e| match e {
                Event::CallState { state, .. } => Some(state),
                Event::AuthFailed { .. } => panic!("{e:?}"),
                _ => None,
            })
            .collect();
        assert_eq!(
            states,
            [
                CallState::Calling,
                CallState::Confirmed,
                CallState::Terminated {
                    reason: EndReason::LocalHangup
                }
            ]
        );
    }
}

#[test]
fn same_nonce_twice_fails_the_call() {
    let mut a = caller();
    let call = a.ep.call(a.now, bob(), CallOptions::default()).unwrap();
    let invite = a.sent().remove(0);
    a.recv(B, &challenged(&invite, 401, "SHA-256", NONCE));
    let again = a.sent().remove(1);
    // Wrong password, says the server: the same nonce again (not stale).
    a.recv(B, &challenged(&again, 401, "SHA-256", NONCE));
    let out = a.sent();
    assert_eq!(out.len(), 1, "only the ACK of the second 401");
    assert_eq!(out[0].method().unwrap().as_str(), "ACK");
    let events = a.events();
    assert!(events.iter().any(|e| matches!(
        e,
        Event::AuthFailed { call: Some(c), status: 401, realm: Some(r), .. }
            if *c == call && r.as_str() == REALM
    )));
    assert!(matches!(
        events.last(),
        Some(Event::CallState {
            state: CallState::Terminated {
                reason: EndReason::AuthFailed
            },
            status: Some(401),
            ..
        })
    ));
    assert!(!a.ep.call_is_live(call));
}

#[test]
fn no_credentials_or_unsupported_algorithm_fail_at_once() {
    // No credentials configured.
    let mut a = Manual::new(2, |_| {});
    a.ep.call(a.now, bob(), CallOptions::default()).unwrap();
    let invite = a.sent().remove(0);
    a.recv(B, &challenged(&invite, 407, "MD5", NONCE));
    assert_eq!(a.sent().len(), 1, "the ACK only");
    assert!(a
        .events()
        .iter()
        .any(|e| matches!(e, Event::AuthFailed { status: 407, .. })));
    // An algorithm we do not implement: no challenge we can answer.
    let mut a = caller();
    a.ep.call(a.now, bob(), CallOptions::default()).unwrap();
    let invite = a.sent().remove(0);
    a.recv(B, &challenged(&invite, 401, "SHA-512-256", NONCE));
    assert_eq!(a.sent().len(), 1, "the ACK only");
    assert!(a
        .events()
        .iter()
        .any(|e| matches!(e, Event::AuthFailed { realm: None, .. })));
}

#[test]
fn a_fresh_nonce_is_answered_again_but_not_forever() {
    let mut a = caller();
    let call = a.ep.call(a.now, bob(), CallOptions::default()).unwrap();
    let mut req = a.sent().remove(0);
    for round in 1..=4 {
        a.recv(B, &challenged(&req, 401, "MD5", &format!("n{round}")));
        let out = a.sent();
        if round <= 3 {
            assert_eq!(out.len(), 2, "round {round}");
            req = out[1].clone();
            assert_eq!(req.cseq().unwrap().seq, round + 1);
        } else {
            assert_eq!(out.len(), 1, "gives up after 3 challenges");
        }
    }
    assert!(!a.ep.call_is_live(call));
}

/// The field `name` of `text`, as its line (without CRLF).
fn line<'a>(text: &'a str, name: &str) -> &'a str {
    text.split("\r\n")
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

/// What `a` sent since the last call, as text.
fn sent_text(a: &mut Manual) -> Vec<String> {
    std::iter::from_fn(|| a.ep.poll_transmit())
        .map(|t| String::from_utf8(t.bytes.to_vec()).unwrap())
        .collect()
}

/// A response `status` to the request `text`, made from its lines, To tagged `srv`.
fn answer(text: &str, status: &str, more: &str) -> Bytes {
    Bytes::from(format!(
        "SIP/2.0 {status}\r\n{}\r\n{}\r\n{};tag=srv\r\n{}\r\n{}\r\n{more}Content-Length: 0\r\n\r\n",
        line(text, "Via: "),
        line(text, "From: "),
        line(text, "To: "),
        line(text, "Call-ID: "),
        line(text, "CSeq: "),
    ))
}

/// An INVITE carrying a field of the application's that our own parser refuses (`Expires:
/// soon`: not a number, RFC 3261 §20.19) is still retried with credentials, cancelled and its
/// non-2xx ACKed: its client transaction keeps only the bytes it sent, and reads them back
/// keeping such a field as written (RFC 3261 §22.2: the retry is the same request with
/// credentials and a CSeq one higher; §9.1: the CANCEL has the INVITE's Request-URI, Call-ID,
/// From, To, CSeq number and top Via; §17.1.1.3: so has the ACK, with the response's To).
#[test]
fn an_invite_with_a_field_the_parser_refuses_is_retried_cancelled_and_acked() {
    let mut a = caller();
    let options = CallOptions {
        headers: vec![Header::Raw {
            name: HeaderName::Expires,
            value: "soon".into(),
        }],
        ..Default::default()
    };
    let call = a.ep.call(a.now, bob(), options).unwrap();
    let invite = sent_text(&mut a).remove(0);
    assert!(invite.contains("\r\nExpires: soon\r\n"), "{invite}");
    let from = B.parse().unwrap();
    let me = a.me;
    let recv = |a: &mut Manual, bytes: Bytes| {
        a.now += sipxfer::Duration::from_millis(10);
        a.ep.handle_datagram(a.now, sipxfer::Transport::Udp, from, me, bytes);
    };
    let auth = format!("Proxy-Authenticate: {}\r\n", challenge("MD5", NONCE));
    let challenge = answer(&invite, "407 Proxy Authentication Required", &auth);
    recv(&mut a, challenge);
    let out = sent_text(&mut a);
    assert_eq!(out.len(), 2, "{out:?}");
    let ack = &out[0];
    assert!(
        ack.starts_with("ACK sip:bob@10.0.0.2:5060 SIP/2.0\r\n"),
        "{ack}"
    );
    for name in ["Via: ", "From: ", "Call-ID: "] {
        assert_eq!(line(ack, name), line(&invite, name));
    }
    assert_eq!(
        line(ack, "To: "),
        format!("{};tag=srv", line(&invite, "To: "))
    );
    assert_eq!(line(ack, "CSeq: "), "CSeq: 1 ACK");
    let again = &out[1];
    assert!(again.starts_with("INVITE sip:bob@10.0.0.2:5060 SIP/2.0\r\n"));
    assert!(again.contains("\r\nExpires: soon\r\n"), "{again}");
    assert!(
        again.contains("\r\nProxy-Authorization: Digest "),
        "{again}"
    );
    assert_eq!(line(again, "CSeq: "), "CSeq: 2 INVITE");
    for name in ["From: ", "To: ", "Call-ID: "] {
        assert_eq!(line(again, name), line(&invite, name));
    }
    assert_ne!(line(again, "Via: "), line(&invite, "Via: "));
    // Ringing, then hung up: the CANCEL of the retried INVITE.
    recv(&mut a, answer(again, "180 Ringing", ""));
    a.ep.hangup(a.now, call).unwrap();
    let cancel = sent_text(&mut a).remove(0);
    assert!(
        cancel.starts_with("CANCEL sip:bob@10.0.0.2:5060 SIP/2.0\r\n"),
        "{cancel}"
    );
    for name in ["Via: ", "From: ", "To: ", "Call-ID: "] {
        assert_eq!(line(&cancel, name), line(again, name));
    }
    assert_eq!(line(&cancel, "CSeq: "), "CSeq: 2 CANCEL");
    assert!(!cancel.contains("Expires"), "{cancel}");
    // The 487 that ends it is ACKed.
    recv(&mut a, answer(again, "487 Request Terminated", ""));
    let ack = sent_text(&mut a).remove(0);
    assert!(
        ack.starts_with("ACK sip:bob@10.0.0.2:5060 SIP/2.0\r\n"),
        "{ack}"
    );
    assert_eq!(line(&ack, "Via: "), line(again, "Via: "));
    assert_eq!(
        line(&ack, "To: "),
        format!("{};tag=srv", line(again, "To: "))
    );
    assert_eq!(line(&ack, "CSeq: "), "CSeq: 2 ACK");
    let ended = std::iter::from_fn(|| a.ep.poll_event()).any(|e| {
        matches!(
            e,
            Event::CallState {
                state: CallState::Terminated {
                    reason: EndReason::LocalHangup
                },
                ..
            }
        )
    });
    assert!(ended);
}
