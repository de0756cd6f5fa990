//! A call we place follows the 3xx responses to its INVITE (RFC 3261 §8.1.3.4): each
//! Contact goes into the call's target set, tried serially by `q`, each in a new INVITE with
//! the same From, To and Call-ID, the next CSeq and a new branch, sent where its URI points
//! (or to the same outbound proxy); a failure moves on to the next target; no URI twice;
//! [`sipxfer::Config::max_redirects`] bounds it all.

use sipxfer::msg::{Message, Uri};
use sipxfer::{CallState, EndReason, Event};
use sipxfer_tests::flows::{parse, reply, Manual};

const BOB: &str = "10.0.0.2:5060";

fn bob() -> Uri<sipxfer::SipStr> {
    Uri::parse("sip:bob@10.0.0.2:5060").unwrap()
}

/// An endpoint at 10.0.0.1 (seed `seed`, its config adjusted by `config`) that called bob:
/// it, the call and the INVITE it sent.
fn calling(
    seed: u8,
    config: impl FnOnce(&mut sipxfer::Config),
) -> (Manual, sipxfer::CallId, Message) {
    let mut a = Manual::new(seed, config);
    let call = a.ep.call(a.now, bob(), Default::default()).unwrap();
    let invite = sent(&mut a).remove(0).1;
    (a, call, invite)
}

/// What the endpoint sent since the last call: where each went and the message.
fn sent(m: &mut Manual) -> Vec<(String, Message)> {
    std::iter::from_fn(|| m.ep.poll_transmit())
        .map(|t| (t.to.to_string(), parse(&t.bytes)))
        .collect()
}

/// Each message as `DEST METHOD Request-URI CSeq`.
fn lines(out: &[(String, Message)]) -> Vec<String> {
    out.iter()
        .map(|(to, m)| {
            format!(
                "{to} {} {} {}",
                m.method().unwrap().as_str(),
                sipxfer::msg::emit::uri_to_string(m.request_uri().unwrap()),
                m.cseq().unwrap().seq
            )
        })
        .collect()
}

/// A 3xx to `invite` with `contacts` as its Contact header field's value.
fn moved(invite: &Message, code: u16, contacts: &str) -> Message {
    let mut r = reply(invite, code, "redirector", None);
    let c = sipxfer::msg::Header::Contact(sipxfer::msg::Contact::Addrs(
        contacts.split(", ").map(parse_name_addr).collect(),
    ));
    r.headers.push(c);
    r
}

fn parse_name_addr(s: &str) -> sipxfer::msg::NameAddr<sipxfer::SipStr> {
    // Parsed as the Contact of a whole message, as the endpoint would read it.
    let m = parse(&bytes::Bytes::from(format!(
        "OPTIONS sip:x@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n\
         From: <sip:a@10.0.0.1>;tag=1\r\nTo: <sip:b@10.0.0.1>\r\nCall-ID: c\r\n\
         CSeq: 1 OPTIONS\r\nContact: {s}\r\nContent-Length: 0\r\n\r\n"
    )));
    let c = m.contacts().next().unwrap().clone();
    c
}

/// The events of `m` that say what happened to the call: its states with their statuses,
/// and its redirections.
fn story(m: &mut Manual) -> Vec<String> {
    m.events()
        .into_iter()
        .filter_map(|e| match e {
            Event::CallState { state, status, .. } => Some(format!("{state:?} {status:?}")),
            Event::CallRedirected { status, target, .. } => Some(format!(
                "redirected {status} {}",
                sipxfer::msg::emit::uri_to_string(&target)
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn a_302_is_followed_to_its_contact_in_the_same_call() {
    let (mut a, call, invite) = calling(1, |_| {});
    a.recv(
        BOB,
        &reply(&invite, 180, "bob", Some("sip:bob@10.0.0.2:5060")),
    );
    assert_eq!(a.ep.dialogs(call).count(), 1);
    a.recv(
        BOB,
        &moved(&invite, 302, "<sip:carol@10.0.0.3:5062;transport=udp>"),
    );
    let out = sent(&mut a);
    // The 302's ACK (its transaction's, §17.1.1.3), then the INVITE again, to carol.
    assert_eq!(
        lines(&out),
        [
            "10.0.0.2:5060 ACK sip:bob@10.0.0.2:5060 1",
            "10.0.0.3:5062 INVITE sip:carol@10.0.0.3:5062;transport=udp 2",
        ]
    );
    let again = &out[1].1;
    // The same From (tag), To (no tag) and Call-ID; a new branch.
    assert_eq!(again.from(), invite.from());
    assert_eq!(again.to(), invite.to());
    assert!(again.to().unwrap().tag().is_none());
    assert_eq!(again.call_id(), invite.call_id());
    assert_ne!(
        again.top_via().unwrap().branch(),
        invite.top_via().unwrap().branch()
    );
    // The early dialog of bob's 180 ended with the 302 (§12.3): a request in it gets 481.
    assert_eq!(a.ep.dialogs(call).count(), 0);
    let ours = invite.from().unwrap().tag().unwrap().to_string();
    let bye = parse(&bytes::Bytes::from(format!(
        "BYE sip:alice@10.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKbye\r\n\
         Max-Forwards: 70\r\nFrom: <sip:bob@10.0.0.2:5060>;tag=bob\r\n\
         To: {};tag={ours}\r\nCall-ID: {}\r\nCSeq: 7 BYE\r\nContent-Length: 0\r\n\r\n",
        invite.from().unwrap().uri,
        invite.call_id().unwrap()
    )));
    a.recv(BOB, &bye);
    let out = sent(&mut a);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1.status(), Some(481));
    // Carol answers: the call is hers.
    a.recv(
        "10.0.0.3:5062",
        &reply(again, 180, "carol", Some("sip:carol@10.0.0.3:5062")),
    );
    a.recv(
        "10.0.0.3:5062",
        &reply(again, 200, "carol", Some("sip:carol@10.0.0.3:5062")),
    );
    assert_eq!(
        lines(&sent(&mut a)),
        ["10.0.0.3:5062 ACK sip:carol@10.0.0.3:5062 2"]
    );
    assert_eq!(
        story(&mut a),
        [
            "Calling None",
            "Ringing Some(180)",
            "redirected 302 sip:carol@10.0.0.3:5062;transport=udp",
            "Calling Some(302)",
            "Ringing Some(180)",
            "Confirmed Some(200)",
        ]
    );
    let d = a.ep.dialog(call).unwrap();
    assert_eq!(d.id.remote_tag.as_str(), "carol");
    assert_eq!(d.local_seq, 2);
    // The call's next request follows the dialog, and its CSeq the INVITE's.
    a.ep.hangup(a.now, call).unwrap();
    assert_eq!(
        lines(&sent(&mut a)),
        ["10.0.0.3:5062 BYE sip:carol@10.0.0.3:5062 3"]
    );
}

#[test]
fn targets_by_q_each_once_and_a_failure_moves_on() {
    let (mut a, call, invite) = calling(2, |_| {});
    // Three targets, y first by q; bob himself again is not a new target.
    a.recv(
        BOB,
        &moved(
            &invite,
            300,
            "<sip:x@10.0.0.7>;q=0.5, <sip:y@10.0.0.8>;q=0.9, <sip:bob@10.0.0.2:5060>, <sip:z@10.0.0.9>;q=0.1",
        ),
    );
    let out = sent(&mut a);
    assert_eq!(out[1].0, "10.0.0.8:5060");
    let to_y = out[1].1.clone();
    // y is busy: its 486 is ACKed and x is tried.
    a.recv("10.0.0.8:5060", &reply(&to_y, 486, "y", None));
    let out = sent(&mut a);
    assert_eq!(
        lines(&out),
        [
            "10.0.0.8:5060 ACK sip:y@10.0.0.8 2",
            "10.0.0.7:5060 INVITE sip:x@10.0.0.7 3",
        ]
    );
    let to_x = out[1].1.clone();
    // x redirects to y (tried already) and to bob (the first): nothing new; z is next.
    a.recv(
        "10.0.0.7:5060",
        &moved(&to_x, 302, "<sip:y@10.0.0.8>, <sip:bob@10.0.0.2:5060>"),
    );
    let out = sent(&mut a);
    assert_eq!(
        lines(&out),
        [
            "10.0.0.7:5060 ACK sip:x@10.0.0.7 3",
            "10.0.0.9:5060 INVITE sip:z@10.0.0.9 4",
        ]
    );
    // z does not answer at all: after Timer B (64·T1) the set is exhausted — and the budget
    // (3) spent: the call fails with 408.
    a.wait_until(a.now + sipxfer::Duration::from_secs(33));
    assert_eq!(
        story(&mut a),
        [
            "Calling None",
            "redirected 300 sip:y@10.0.0.8",
            "Calling Some(300)",
            "redirected 486 sip:x@10.0.0.7",
            "Calling Some(486)",
            "redirected 302 sip:z@10.0.0.9",
            "Calling Some(302)",
            "Terminated { reason: Timeout } Some(408)",
        ]
    );
    assert!(!a.ep.call_is_live(call));
    a.wait_until(a.now + sipxfer::Duration::from_secs(40));
    let s = a.ep.stats();
    assert_eq!((s.transactions, s.dialogs, s.timers), (0, 0, 0));
}

#[test]
fn the_budget_ends_a_chain_of_redirections() {
    let (mut a, call, mut invite) = calling(3, |c| c.max_redirects = 2);
    for hop in 1..=3 {
        let from = sent_from(&invite);
        a.recv(
            &from,
            &moved(&invite, 301, &format!("<sip:hop{hop}@10.0.1.{hop}>")),
        );
        let out = sent(&mut a);
        if hop <= 2 {
            assert_eq!(out.len(), 2, "hop {hop}: {:?}", lines(&out));
            invite = out[1].1.clone();
        } else {
            // The third 301 is not followed: its ACK only, and the call fails with it.
            assert_eq!(lines(&out), ["10.0.1.2:5060 ACK sip:hop2@10.0.1.2 3"]);
        }
    }
    let story = story(&mut a);
    assert_eq!(
        story.last().unwrap(),
        "Terminated { reason: Rejected } Some(301)"
    );
    assert_eq!(
        story.iter().filter(|s| s.starts_with("redirected")).count(),
        2
    );
    assert!(!a.ep.call_is_live(call));
}

/// Where the test's peer for `invite` is (its Request-URI's address).
fn sent_from(invite: &Message) -> String {
    let u = sipxfer::msg::emit::uri_to_string(invite.request_uri().unwrap());
    let host = u.split('@').nth(1).unwrap();
    if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5060")
    }
}

#[test]
fn no_redirection_when_off_nor_to_what_the_core_cannot_reach() {
    // Off: the 302 ends the call, as any final response.
    let (mut a, call, invite) = calling(4, |c| c.max_redirects = 0);
    a.recv(BOB, &moved(&invite, 302, "<sip:carol@10.0.0.3>"));
    assert_eq!(
        lines(&sent(&mut a)),
        ["10.0.0.2:5060 ACK sip:bob@10.0.0.2:5060 1"]
    );
    assert_eq!(
        story(&mut a),
        ["Calling None", "Terminated { reason: Rejected } Some(302)"]
    );
    assert!(!a.ep.call_is_live(call));

    // A domain name (the core does no DNS, and there is no outbound proxy), a tel: URI, a
    // 305 and a 380: not followed.
    let (mut a, _, invite) = calling(5, |_| {});
    a.recv(
        BOB,
        &moved(&invite, 302, "<sip:carol@example.com>, <tel:+15551234567>"),
    );
    assert_eq!(sent(&mut a).len(), 1, "the ACK only");
    // Passed over, such a target costs none of the budget.
    let (mut a, _, invite) = calling(10, |c| c.max_redirects = 1);
    a.recv(
        BOB,
        &moved(&invite, 302, "<sip:x@example.com>, <sip:y@10.0.0.8>"),
    );
    assert_eq!(
        lines(&sent(&mut a))[1],
        "10.0.0.8:5060 INVITE sip:y@10.0.0.8 2"
    );
    for code in [305, 380] {
        let (mut a, _, invite) = calling(6, |_| {});
        a.recv(BOB, &moved(&invite, code, "<sip:carol@10.0.0.3>"));
        assert_eq!(sent(&mut a).len(), 1, "{code}: the ACK only");
    }
}

#[test]
fn through_an_outbound_proxy_the_new_invite_goes_to_the_proxy() {
    let proxy: std::net::SocketAddr = "10.0.0.9:5060".parse().unwrap();
    let (mut a, _, invite) = calling(7, |c| {
        c.outbound_proxy = Some(sipxfer::Destination::udp(proxy))
    });
    // A domain name is fine here: the proxy routes it.
    a.recv(
        "10.0.0.9:5060",
        &moved(&invite, 302, "<sip:carol@example.com>"),
    );
    assert_eq!(
        lines(&sent(&mut a)),
        [
            "10.0.0.9:5060 ACK sip:bob@10.0.0.2:5060 1",
            "10.0.0.9:5060 INVITE sip:carol@example.com 2",
        ]
    );
}

#[test]
fn a_call_hung_up_while_redirected_is_not_followed() {
    let (mut a, call, invite) = calling(8, |_| {});
    a.recv(
        BOB,
        &reply(&invite, 180, "bob", Some("sip:bob@10.0.0.2:5060")),
    );
    a.ep.hangup(a.now, call).unwrap();
    let cancel = sent(&mut a).remove(0).1;
    assert_eq!(cancel.method().unwrap().as_str(), "CANCEL");
    // The 302 crossed the CANCEL.
    a.recv(BOB, &moved(&invite, 302, "<sip:carol@10.0.0.3>"));
    let out = sent(&mut a);
    assert_eq!(lines(&out), ["10.0.0.2:5060 ACK sip:bob@10.0.0.2:5060 1"]);
    assert_eq!(
        story(&mut a).last().unwrap(),
        &format!(
            "{:?} Some(302)",
            CallState::Terminated {
                reason: EndReason::LocalHangup
            }
        )
    );
}

#[test]
fn a_challenge_on_the_way_to_the_new_target_is_answered_for_its_uri() {
    let (mut a, _, invite) = calling(9, |c| {
        c.credentials
            .push(sipxfer::auth::Credentials::new("alice", "secret"))
    });
    let challenge = |req: &Message| {
        let mut r = reply(req, 407, "proxy", None);
        r.headers.push(sipxfer::msg::Header::Raw {
            name: sipxfer::msg::HeaderName::ProxyAuthenticate,
            value: "Digest realm=\"example.org\", nonce=\"n1\", algorithm=MD5".into(),
        });
        r
    };
    a.recv(BOB, &challenge(&invite));
    let with_creds = sent(&mut a).remove(1).1;
    assert!(with_creds.raw_header("Proxy-Authorization").is_some());
    a.recv(BOB, &moved(&with_creds, 302, "<sip:carol@10.0.0.3>"));
    let out = sent(&mut a);
    assert_eq!(
        lines(&out),
        [
            "10.0.0.2:5060 ACK sip:bob@10.0.0.2:5060 2",
            "10.0.0.3:5060 INVITE sip:carol@10.0.0.3 3",
        ]
    );
    // The credentials for bob's URI are not sent to carol.
    assert!(out[1].1.raw_header("Proxy-Authorization").is_none());
    // Carol's proxy challenges with the same realm and a new nonce: answered for her URI.
    a.recv("10.0.0.3:5060", &challenge(&out[1].1));
    let out = sent(&mut a);
    assert_eq!(out.len(), 2, "{:?}", lines(&out));
    let creds = out[1].1.raw_header("Proxy-Authorization").unwrap();
    assert!(creds.contains("uri=\"sip:carol@10.0.0.3\""), "{creds}");
    assert_eq!(out[1].1.cseq().unwrap().seq, 4);
}

/// Three endpoints over seeded lossy links: A calls B, B redirects the call to C
/// ([`sipxfer::Endpoint::redirect_call`], 302), A follows it and C answers; A hangs up. For
/// every seed and loss rate, the call ends up between A and C — or, when every copy of a
/// request was lost (rare), fails at A with a timeout — and nothing is left behind.
#[test]
fn a_calls_b_who_redirects_to_c_under_loss() {
    use sipxfer::msg::NameAddr;
    use sipxfer_tests::sim::{Link, Sim};
    let (mut runs, mut up) = (0, 0);
    for loss in [0.0, 0.1, 0.3] {
        for seed in 0..200 {
            let mut sim = Sim::new(seed);
            sim.set_default_link(Link::lossy(loss));
            sim.add_endpoint("10.0.0.1:5060");
            sim.add_endpoint("10.0.0.2:5060");
            sim.add_endpoint("10.0.0.3:5060");
            let call = sim
                .ep(0)
                .call(sipxfer::Instant::ZERO, bob(), Default::default())
                .unwrap();
            let mut a_story = Vec::new();
            let mut c_from = None;
            sim.run_to_end(|ep, n, now, e| match (n, e) {
                (1, Event::IncomingCall { call, .. }) => {
                    let carol = NameAddr::new(Uri::parse("sip:carol@10.0.0.3:5060").unwrap());
                    ep.redirect_call(now, call, 302, vec![carol]).unwrap();
                }
                (2, Event::IncomingCall { call, request, .. }) => {
                    c_from = request.call_id().map(str::to_string);
                    ep.answer(now, call, None).unwrap();
                }
                (0, Event::CallRedirected { status, target, .. }) => {
                    a_story.push(format!(
                        "redirected {status} {}",
                        sipxfer::msg::emit::uri_to_string(&target)
                    ));
                }
                (0, Event::CallState { state, .. }) => {
                    a_story.push(format!("{state:?}"));
                    if state == CallState::Confirmed {
                        ep.hangup(now, call).unwrap();
                    }
                }
                _ => {}
            });
            runs += 1;
            let ctx = format!("loss {loss} seed {seed}: {a_story:?}");
            let timeout = format!(
                "{:?}",
                CallState::Terminated {
                    reason: EndReason::Timeout
                }
            );
            if a_story.last() == Some(&timeout) {
                assert!(loss > 0.0, "{ctx}");
            } else {
                up += 1;
                assert_eq!(
                    a_story,
                    [
                        "Calling",
                        "redirected 302 sip:carol@10.0.0.3:5060",
                        "Calling",
                        "Confirmed",
                        "Terminated { reason: LocalHangup }"
                    ],
                    "{ctx}"
                );
                // C's call is A's, followed: the INVITE's Call-ID.
                let invite = sim
                    .sent_by(0)
                    .into_iter()
                    .find(|l| l.first_line().starts_with("INVITE sip:carol@"))
                    .map(|l| parse(&l.bytes))
                    .expect("A's INVITE to C");
                assert_eq!(c_from.as_deref(), invite.call_id(), "{ctx}");
                assert_eq!(invite.cseq().unwrap().seq, 2, "{ctx}");
            }
            for i in 0..3 {
                let s = sim.ep(i).stats();
                assert_eq!(
                    (s.transactions, s.dialogs, s.timers),
                    (0, 0, 0),
                    "{ctx}: endpoint {i}"
                );
                assert_eq!(sim.ep(i).calls().count(), 0, "{ctx}: endpoint {i}");
            }
        }
    }
    assert_eq!(runs, 600);
    assert!(up >= 590, "{up} of {runs} calls reached C");
}

/// Two targets, y first by `q`; y fails as `fail` says; `Some` of what the call does next.
fn y_then_z(
    seed: u8,
    fail: impl FnOnce(&mut Manual, &Message),
) -> (Manual, Vec<(String, Message)>) {
    let (mut a, _, invite) = calling(seed, |_| {});
    a.recv(
        BOB,
        &moved(
            &invite,
            300,
            "<sip:z@10.0.0.9>;q=0.5, <sip:y@10.0.0.8>;q=0.9",
        ),
    );
    let to_y = sent(&mut a).remove(1).1;
    assert_eq!(to_y.request_uri().unwrap().to_string(), "sip:y@10.0.0.8");
    fail(&mut a, &to_y);
    let out = sent(&mut a);
    (a, out)
}

#[test]
fn a_target_that_never_answers_or_cannot_be_reached_moves_on() {
    // No answer at all: after Timer B (64·T1) the call moves on to z.
    let (mut a, out) = y_then_z(11, |a, _| {
        a.wait_until(a.now + sipxfer::Duration::from_millis(31_900));
        let retransmissions = sent(a);
        assert!(retransmissions
            .iter()
            .all(|(to, m)| to == "10.0.0.8:5060" && m.method().unwrap().as_str() == "INVITE"));
        a.wait_until(a.now + sipxfer::Duration::from_millis(200));
    });
    assert_eq!(lines(&out), ["10.0.0.9:5060 INVITE sip:z@10.0.0.9 3"]);
    assert!(story(&mut a).contains(&"redirected 408 sip:z@10.0.0.9".to_string()));
    // Unreachable (an ICMP error, reported by the runtime): the 503 moves it on at once.
    let (mut a, out) = y_then_z(12, |a, _| {
        let now = a.now;
        a.ep.handle_unreachable(
            now,
            sipxfer::Transport::Udp,
            "10.0.0.8:5060".parse().unwrap(),
        );
    });
    assert_eq!(lines(&out), ["10.0.0.9:5060 INVITE sip:z@10.0.0.9 3"]);
    assert!(story(&mut a).contains(&"redirected 503 sip:z@10.0.0.9".to_string()));
}

#[test]
fn a_6xx_ends_the_call_and_a_retransmitted_3xx_is_only_acked() {
    // y declines for the user everywhere (RFC 3261 §21.6): z is not tried.
    let (mut a, out) = y_then_z(13, |a, to_y| {
        a.recv("10.0.0.8:5060", &reply(to_y, 603, "y", None))
    });
    assert_eq!(lines(&out), ["10.0.0.8:5060 ACK sip:y@10.0.0.8 2"]);
    assert_eq!(
        story(&mut a).last().unwrap(),
        "Terminated { reason: Rejected } Some(603)"
    );
    // The 300 again (its ACK was lost): the same ACK, and no second INVITE.
    let (mut a, _, invite) = calling(14, |_| {});
    let three = moved(&invite, 300, "<sip:y@10.0.0.8>");
    a.recv(BOB, &three);
    let first = sent(&mut a);
    a.recv(BOB, &three);
    let again = sent(&mut a);
    assert_eq!(lines(&again), ["10.0.0.2:5060 ACK sip:bob@10.0.0.2:5060 1"]);
    assert_eq!(again[0].1.to_bytes(), first[0].1.to_bytes());
}

#[test]
fn the_highest_q_first_however_many_contacts_and_no_huge_uri() {
    let (mut a, _, invite) = calling(15, |_| {});
    let long = format!("<sip:{}@10.0.0.5>;q=1.0", "x".repeat(600));
    let mut contacts: Vec<String> = (0..10)
        .map(|i| format!("<sip:u{i}@10.0.1.{i}>;q=0.1"))
        .collect();
    contacts.push(long);
    contacts.push("<sip:best@10.0.0.6>;q=1.0".into());
    a.recv(BOB, &moved(&invite, 302, &contacts.join(", ")));
    // The long one is passed over, the last-listed q=1.0 one is tried first.
    assert_eq!(
        lines(&sent(&mut a))[1],
        "10.0.0.6:5060 INVITE sip:best@10.0.0.6 2"
    );
}

#[test]
fn an_outbound_proxy_at_the_targets_own_address_is_still_the_next_hop() {
    // The Request-URI names the proxy's own address (a PBX extension): the INVITE went
    // through the outbound proxy all the same, and so does the redirected one.
    let pbx: std::net::SocketAddr = "10.0.0.9:5060".parse().unwrap();
    let mut a = Manual::new(16, |c| {
        c.outbound_proxy = Some(sipxfer::Destination::udp(pbx))
    });
    a.ep.call(
        a.now,
        Uri::parse("sip:200@10.0.0.9").unwrap(),
        Default::default(),
    )
    .unwrap();
    let invite = sent(&mut a).remove(0).1;
    a.recv("10.0.0.9:5060", &moved(&invite, 302, "<sip:300@10.0.0.7>"));
    assert_eq!(
        lines(&sent(&mut a))[1],
        "10.0.0.9:5060 INVITE sip:300@10.0.0.7 2"
    );
}

#[test]
fn the_redirected_invite_is_cancelled_where_it_went() {
    let (mut a, call, invite) = calling(17, |_| {});
    a.recv(BOB, &moved(&invite, 302, "<sip:carol@10.0.0.3>"));
    let to_c = sent(&mut a).remove(1).1;
    a.recv(
        "10.0.0.3:5060",
        &reply(&to_c, 180, "carol", Some("sip:carol@10.0.0.3")),
    );
    a.ep.hangup(a.now, call).unwrap();
    let out = sent(&mut a);
    // RFC 3261 §9.1: the CANCEL's Request-URI, Call-ID, To, From, CSeq number and Via are
    // those of the request it cancels, and it goes where that request went.
    assert_eq!(lines(&out), ["10.0.0.3:5060 CANCEL sip:carol@10.0.0.3 2"]);
    let cancel = &out[0].1;
    assert_eq!(cancel.top_via(), to_c.top_via());
    assert_eq!(cancel.to(), to_c.to());
    a.recv("10.0.0.3:5060", &reply(cancel, 200, "carol", None));
    a.recv("10.0.0.3:5060", &reply(&to_c, 487, "carol", None));
    assert_eq!(
        lines(&sent(&mut a)),
        ["10.0.0.3:5060 ACK sip:carol@10.0.0.3 2"]
    );
    assert_eq!(
        story(&mut a).last().unwrap(),
        "Terminated { reason: LocalHangup } Some(487)"
    );
}

#[test]
fn headers_and_method_of_a_contact_stay_out_of_the_dialog() {
    // The 2xx has no Contact: the remote target is the Request-URI sent (RFC 3261 §12.1.2
    // fallback), without the Contact's `?headers` (§19.1.1: not in a Request-URI).
    let (mut a, call, invite) = calling(18, |_| {});
    a.recv(
        BOB,
        &moved(
            &invite,
            302,
            "<sip:carol@10.0.0.3;method=INVITE?Subject=hi>",
        ),
    );
    let to_c = sent(&mut a).remove(1).1;
    assert_eq!(
        to_c.request_uri().unwrap().to_string(),
        "sip:carol@10.0.0.3"
    );
    a.recv("10.0.0.3:5060", &reply(&to_c, 200, "carol", None));
    sent(&mut a);
    a.ep.hangup(a.now, call).unwrap();
    assert_eq!(
        lines(&sent(&mut a)),
        ["10.0.0.3:5060 BYE sip:carol@10.0.0.3 3"]
    );
}
