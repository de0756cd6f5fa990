//! INVITE sessions between simulated endpoints (RFC 3261 §13–§15): the exact messages of a
//! call, and set-up and hang-up from either side under 0 %, 10 % and 30 % loss.

use sipxfer::msg::Uri;
use sipxfer::{CallId, CallOptions, CallState, EndReason, Event, Instant};
use sipxfer_tests::flows::{call_states as states, parse};
use sipxfer_tests::sim::{Link, Sim};

const SDP: &[u8] = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Hangs {
    Caller,
    Callee,
}

/// One call from A to B; B rings then answers; `who` hangs up as soon as the call is up.
/// Returns the events at A and at B.
type Events = Vec<(Instant, Event)>;

fn call(sim: &mut Sim, who: Hangs) -> (Events, Events) {
    let (a, b) = (0, 1);
    let target = Uri::parse("sip:bob@10.0.0.2:5060").unwrap();
    let options = CallOptions {
        offer: Some(bytes::Bytes::from_static(SDP)),
        ..Default::default()
    };
    let call = sim.ep(a).call(Instant::ZERO, target, options).unwrap();
    let (mut ea, mut eb) = (vec![], vec![]);
    sim.run_to_end(|ep, n, now, e| {
        match (&e, n) {
            (Event::IncomingCall { call, .. }, 1) => {
                ep.ring(now, *call, 180).unwrap();
                ep.answer(now, *call, Some(bytes::Bytes::from_static(SDP)))
                    .unwrap();
            }
            (
                Event::CallState {
                    call: c,
                    state: CallState::Confirmed,
                    ..
                },
                _,
            ) => {
                let mine = (n == a && who == Hangs::Caller) || (n == b && who == Hangs::Callee);
                if mine {
                    ep.hangup(now, *c).unwrap();
                }
            }
            _ => {}
        }
        if n == a {
            ea.push((now, e))
        } else {
            eb.push((now, e))
        }
    });
    let _: CallId = call;
    (ea, eb)
}

fn two() -> Sim {
    let mut sim = Sim::new(11);
    sim.add_endpoint("10.0.0.1:5060");
    sim.add_endpoint("10.0.0.2:5060");
    sim
}

#[test]
fn a_call_on_the_wire() {
    let mut sim = two();
    let (ea, eb) = call(&mut sim, Hangs::Caller);
    let lines: Vec<(&str, String)> = sim
        .log
        .iter()
        .map(|l| {
            let from = if l.from.to_string() == "10.0.0.1:5060" {
                "A"
            } else {
                "B"
            };
            (from, l.first_line().to_string())
        })
        .collect();
    let want = [
        ("A", "INVITE sip:bob@10.0.0.2:5060 SIP/2.0"),
        ("B", "SIP/2.0 180 Ringing"),
        ("B", "SIP/2.0 200 OK"),
        ("A", "ACK sip:10.0.0.2:5060 SIP/2.0"),
        ("A", "BYE sip:10.0.0.2:5060 SIP/2.0"),
        ("B", "SIP/2.0 200 OK"),
    ];
    let got: Vec<(&str, &str)> = lines.iter().map(|(a, b)| (*a, b.as_str())).collect();
    assert_eq!(got, want);
    let m: Vec<_> = sim.log.iter().map(|l| parse(&l.bytes)).collect();
    let (invite, ringing, ok, ack, bye) = (&m[0], &m[1], &m[2], &m[3], &m[4]);
    // One dialog: Call-ID, From tag, and the To tag B chose in its 180 and 200.
    let to_tag = ok.to().unwrap().tag().unwrap();
    assert_eq!(ringing.to().unwrap().tag(), Some(to_tag));
    for x in [ack, bye] {
        assert_eq!(x.call_id(), invite.call_id());
        assert_eq!(x.from().unwrap().tag(), invite.from().unwrap().tag());
        assert_eq!(x.to().unwrap().tag(), Some(to_tag));
    }
    // CSeq: ACK reuses the INVITE's number (§13.2.2.4), BYE is the next one (§12.2.1.1).
    assert_eq!(
        (ack.cseq().unwrap().seq, ack.cseq().unwrap().method.as_str()),
        (1, "ACK")
    );
    assert_eq!(
        (bye.cseq().unwrap().seq, bye.cseq().unwrap().method.as_str()),
        (2, "BYE")
    );
    // The ACK of a 2xx is its own transaction: a new branch.
    assert_ne!(
        ack.top_via().unwrap().branch(),
        invite.top_via().unwrap().branch()
    );
    // Offer in the INVITE, answer in the 200, Contact in both.
    assert_eq!(&invite.body[..], SDP);
    assert_eq!(&ok.body[..], SDP);
    assert!(invite.content_type().unwrap().is("application", "sdp"));
    assert!(invite.contact().is_some() && ok.contact().is_some());
    assert_eq!(
        states(&ea),
        [
            (CallState::Calling, None),
            (CallState::Ringing, Some(180)),
            (CallState::Confirmed, Some(200)),
            (
                CallState::Terminated {
                    reason: EndReason::LocalHangup
                },
                None
            ),
        ]
    );
    assert!(
        matches!(eb[0].1, Event::IncomingCall { ref offer, .. } if offer.as_deref() == Some(SDP))
    );
    assert_eq!(
        states(&eb),
        [
            (CallState::Confirmed, Some(200)),
            (
                CallState::Terminated {
                    reason: EndReason::RemoteHangup
                },
                None
            ),
        ]
    );
    for n in [0, 1] {
        let s = sim.ep(n).stats();
        assert_eq!((s.transactions, s.timers, s.dialogs), (0, 0, 0), "{s:?}");
    }
}

#[test]
fn busy_and_cancel() {
    // B rejects: 486 at A, ACKed by A's transaction.
    let mut sim = two();
    let target = Uri::parse("sip:bob@10.0.0.2").unwrap();
    sim.ep(0)
        .call(Instant::ZERO, target.clone(), CallOptions::default())
        .unwrap();
    let mut ea = vec![];
    sim.run_to_end(|ep, n, now, e| {
        if let Event::IncomingCall { call, .. } = e {
            ep.reject(now, call, 486).unwrap();
        } else if n == 0 {
            ea.push((now, e));
        }
    });
    assert_eq!(
        states(&ea).last(),
        Some(&(
            CallState::Terminated {
                reason: EndReason::Rejected
            },
            Some(486)
        ))
    );
    assert_eq!(
        sim.log.last().unwrap().first_line(),
        "ACK sip:bob@10.0.0.2 SIP/2.0"
    );

    // A gives up while B rings: CANCEL, 200, 487, ACK.
    let mut sim = two();
    let call = sim
        .ep(0)
        .call(Instant::ZERO, target, CallOptions::default())
        .unwrap();
    let (mut ea, mut eb) = (vec![], vec![]);
    sim.run_to_end(|ep, n, now, e| {
        match &e {
            Event::IncomingCall { call, .. } => ep.ring(now, *call, 180).unwrap(),
            Event::CallState {
                state: CallState::Ringing,
                ..
            } => ep.cancel_call(now, call).unwrap(),
            _ => {}
        }
        if n == 0 {
            ea.push((now, e))
        } else {
            eb.push((now, e))
        }
    });
    let lines: Vec<&str> = sim.log.iter().map(|l| l.first_line()).collect();
    assert_eq!(
        lines,
        [
            "INVITE sip:bob@10.0.0.2 SIP/2.0",
            "SIP/2.0 180 Ringing",
            "CANCEL sip:bob@10.0.0.2 SIP/2.0",
            "SIP/2.0 200 OK",
            "SIP/2.0 487 Request Terminated",
            "ACK sip:bob@10.0.0.2 SIP/2.0",
        ]
    );
    assert_eq!(
        states(&ea).last(),
        Some(&(
            CallState::Terminated {
                reason: EndReason::LocalHangup
            },
            Some(487)
        ))
    );
    assert_eq!(
        states(&eb).last(),
        Some(&(
            CallState::Terminated {
                reason: EndReason::Cancelled
            },
            Some(487)
        ))
    );
    for n in [0, 1] {
        let s = sim.ep(n).stats();
        assert_eq!((s.transactions, s.timers, s.dialogs), (0, 0, 0), "{s:?}");
    }
}

#[test]
fn calls_under_loss_end_in_agreement() {
    for loss in [0.0, 0.1, 0.3] {
        for seed in 0..500 {
            for who in [Hangs::Caller, Hangs::Callee] {
                let mut sim = Sim::new(seed);
                sim.set_default_link(Link::lossy(loss));
                sim.add_endpoint("10.0.0.1:5060");
                sim.add_endpoint("10.0.0.2:5060");
                let (ea, eb) = call(&mut sim, who);
                let (sa, sb) = (states(&ea), states(&eb));
                let ctx = format!("loss {loss} seed {seed} {who:?}: A {sa:?} B {sb:?}");
                let (caller_end, callee_end) = match who {
                    Hangs::Caller => (EndReason::LocalHangup, EndReason::RemoteHangup),
                    Hangs::Callee => (EndReason::RemoteHangup, EndReason::LocalHangup),
                };
                assert!(sa.contains(&(CallState::Confirmed, Some(200))), "{ctx}");
                assert_eq!(
                    sa.last().unwrap().0,
                    CallState::Terminated { reason: caller_end },
                    "{ctx}"
                );
                assert_eq!(
                    sb.last().unwrap().0,
                    CallState::Terminated { reason: callee_end },
                    "{ctx}"
                );
                // Exactly one INVITE dialog, one ACK'd 2xx, one BYE transaction on the wire
                // (retransmissions aside).
                let byes: std::collections::BTreeSet<String> = sim
                    .log
                    .iter()
                    .filter(|l| l.first_line().starts_with("BYE "))
                    .map(|l| {
                        parse(&l.bytes)
                            .top_via()
                            .unwrap()
                            .branch()
                            .unwrap()
                            .to_string()
                    })
                    .collect();
                assert_eq!(byes.len(), 1, "{ctx}");
                for n in [0, 1] {
                    let s = sim.ep(n).stats();
                    assert_eq!(
                        (s.transactions, s.timers, s.dialogs),
                        (0, 0, 0),
                        "{ctx} {s:?}"
                    );
                }
            }
        }
    }
}
