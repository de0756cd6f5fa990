//! Sessions after set-up (RFC 3261 §12–§14, RFC 3264 §8.4): re-INVITE hold and resume from
//! either side, 491 glare and the §14.1 retry timers, 408/481 ending the dialog (§12.2.1.2,
//! RFC 5057), forked responses, a record-routing proxy, and the limits 486/413.

use bytes::Bytes;
use sipxfer::msg::Uri;
use sipxfer::sdp::{self, Direction};
use sipxfer::{CallOptions, CallState, EndReason, Endpoint, Event, Instant};
use sipxfer_tests::flows::{self, call_states as states, parse, reply, Events, Manual};
use sipxfer_tests::sim::{Link, Logged, Sim};

const SDP_A: &[u8] = b"v=0\r\no=a 100 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";
const SDP_B: &[u8] = b"v=0\r\no=b 200 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";

fn offer() -> CallOptions {
    CallOptions {
        offer: Some(Bytes::from_static(SDP_A)),
        ..Default::default()
    }
}

fn bob() -> Uri<sipxfer::SipStr> {
    Uri::parse("sip:bob@10.0.0.2:5060").unwrap()
}

/// Who does what once the call is up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Caller,
    Callee,
}

/// A calls B, B answers; then `holder` holds, resumes, and `hanger` hangs up
/// ([`sipxfer_tests::flows::hold_resume`]).
fn hold_resume(sim: &mut Sim, holder: Side, hanger: Side) -> (Events, Events) {
    let node = |s: Side| if s == Side::Caller { 0 } else { 1 };
    flows::hold_resume(sim, bob(), SDP_A, SDP_B, node(holder), node(hanger))
}

fn two(seed: u64) -> Sim {
    let mut sim = Sim::new(seed);
    sim.add_endpoint("10.0.0.1:5060");
    sim.add_endpoint("10.0.0.2:5060");
    sim
}

fn who(sim: &Sim, l: &Logged) -> &'static str {
    ["A", "B", "P", "Q"][sim
        .nodes
        .iter()
        .position(|n| n.addr == l.from)
        .expect("a node")]
}

fn origin_version(body: &[u8]) -> u64 {
    let text = std::str::from_utf8(body).unwrap();
    let o = text.lines().find(|l| l.starts_with("o=")).unwrap();
    o.split(' ').nth(2).unwrap().parse().unwrap()
}

fn assert_empty(sim: &mut Sim, nodes: &[usize], ctx: &str) {
    for &n in nodes {
        let s = sim.ep(n).stats();
        assert_eq!(
            (s.transactions, s.timers, s.dialogs),
            (0, 0, 0),
            "{ctx} {s:?}"
        );
    }
}

#[test]
fn hold_and_resume_on_the_wire() {
    for (holder, hanger) in [(Side::Caller, Side::Callee), (Side::Callee, Side::Caller)] {
        let mut sim = two(3);
        let (ea, eb) = hold_resume(&mut sim, holder, hanger);
        let (h, o) = if holder == Side::Caller {
            ("A", "B")
        } else {
            ("B", "A")
        };
        let (x, y) = if hanger == Side::Caller {
            ("A", "B")
        } else {
            ("B", "A")
        };
        let got: Vec<(&str, &str)> = sim
            .log
            .iter()
            .map(|l| (who(&sim, l), l.first_line()))
            .collect();
        let reinvite_uri = if holder == Side::Caller {
            "INVITE sip:10.0.0.2:5060 SIP/2.0"
        } else {
            "INVITE sip:10.0.0.1:5060 SIP/2.0"
        };
        let ack_uri = reinvite_uri.replace("INVITE", "ACK");
        let bye_uri = if hanger == Side::Caller {
            "BYE sip:10.0.0.2:5060 SIP/2.0"
        } else {
            "BYE sip:10.0.0.1:5060 SIP/2.0"
        };
        let want = vec![
            ("A", "INVITE sip:bob@10.0.0.2:5060 SIP/2.0"),
            ("B", "SIP/2.0 200 OK"),
            ("A", "ACK sip:10.0.0.2:5060 SIP/2.0"),
            (h, reinvite_uri),
            (o, "SIP/2.0 200 OK"),
            (h, ack_uri.as_str()),
            (h, reinvite_uri),
            (o, "SIP/2.0 200 OK"),
            (h, ack_uri.as_str()),
            (x, bye_uri),
            (y, "SIP/2.0 200 OK"),
        ];
        assert_eq!(got, want, "{holder:?}");
        let m: Vec<_> = sim.log.iter().map(|l| parse(&l.bytes)).collect();
        let (invite, ok) = (&m[0], &m[1]);
        let (hold, held_ok, hold_ack) = (&m[3], &m[4], &m[5]);
        let (resume, resumed_ok, resume_ack) = (&m[6], &m[7], &m[8]);
        // The re-INVITEs are in the dialog: its Call-ID and tags, the holder's CSeq space,
        // a Contact (target refresh), the SDP as the RFC 3264 §8.4 says.
        let dialog_tags = |x: &sipxfer::Message| {
            (
                x.call_id().unwrap().to_string(),
                x.from().unwrap().tag().unwrap().to_string(),
                x.to().unwrap().tag().unwrap().to_string(),
            )
        };
        let (cid, ftag, ttag) = dialog_tags(ok);
        let expect = if holder == Side::Caller {
            (cid.clone(), ftag.clone(), ttag.clone())
        } else {
            (cid.clone(), ttag.clone(), ftag.clone())
        };
        for r in [hold, hold_ack, resume, resume_ack] {
            assert_eq!(dialog_tags(r), expect);
        }
        let seq = |x: &sipxfer::Message| x.cseq().unwrap().seq;
        assert_eq!(seq(resume), seq(hold) + 1);
        assert_eq!((seq(hold_ack), seq(resume_ack)), (seq(hold), seq(resume)));
        if holder == Side::Caller {
            assert_eq!(seq(hold), 2, "the caller's INVITE was 1");
        }
        assert_ne!(
            hold.top_via().unwrap().branch(),
            resume.top_via().unwrap().branch()
        );
        assert!(hold.contact().is_some() && held_ok.contact().is_some());
        // Offer and answer: hold = sendonly, answered recvonly; resume = sendrecv both ways;
        // every new SDP has its o= version one higher than the same side's previous one.
        let (mine, theirs) = if holder == Side::Caller {
            (&invite.body, &ok.body)
        } else {
            (&ok.body, &invite.body)
        };
        assert_eq!(sdp::direction(&hold.body), Direction::SendOnly);
        assert_eq!(sdp::direction(&held_ok.body), Direction::RecvOnly);
        assert_eq!(sdp::direction(&resume.body), Direction::SendRecv);
        assert_eq!(sdp::direction(&resumed_ok.body), Direction::SendRecv);
        assert_eq!(origin_version(&hold.body), origin_version(mine) + 1);
        assert_eq!(origin_version(&resume.body), origin_version(mine) + 2);
        assert_eq!(origin_version(&held_ok.body), origin_version(theirs) + 1);
        assert_eq!(origin_version(&resumed_ok.body), origin_version(theirs) + 2);
        assert!(hold.content_type().unwrap().is("application", "sdp"));
        // Both sides report the same story.
        let story = |mine_hung: bool| {
            let end = if mine_hung {
                EndReason::LocalHangup
            } else {
                EndReason::RemoteHangup
            };
            vec![
                (CallState::Confirmed, Some(200)),
                (CallState::Held, Some(200)),
                (CallState::Resumed, Some(200)),
                (CallState::Terminated { reason: end }, None),
            ]
        };
        let a = states(&ea);
        assert_eq!(a[0], (CallState::Calling, None));
        assert_eq!(a[1..], story(hanger == Side::Caller)[..]);
        assert_eq!(states(&eb), story(hanger == Side::Callee));
        assert_empty(&mut sim, &[0, 1], "");
    }
}

#[test]
fn hold_resume_and_hangup_under_loss_end_in_agreement() {
    let (mut runs, mut timeouts) = (0, 0);
    for loss in [0.0, 0.1, 0.3] {
        for seed in 0..250 {
            for holder in [Side::Caller, Side::Callee] {
                for hanger in [Side::Caller, Side::Callee] {
                    let mut sim = Sim::new(seed);
                    sim.set_default_link(Link::lossy(loss));
                    sim.add_endpoint("10.0.0.1:5060");
                    sim.add_endpoint("10.0.0.2:5060");
                    let (ea, eb) = hold_resume(&mut sim, holder, hanger);
                    runs += 1;
                    let (sa, sb) = (states(&ea), states(&eb));
                    let ctx =
                        format!("loss {loss} seed {seed} {holder:?}/{hanger:?}: A {sa:?} B {sb:?}");
                    let gone = CallState::Terminated {
                        reason: EndReason::DialogGone,
                    };
                    if sa.last().unwrap().0 == gone || sb.last().unwrap().0 == gone {
                        // Every copy of a request lost (0.3^7 for a re-INVITE): the sender
                        // ends the dialog after 32 s and BYEs it (§12.2.1.2); the peer ends
                        // too. Both terminated, and nothing left behind.
                        assert!(loss > 0.0, "{ctx}");
                        timeouts += 1;
                        for s in [&sa, &sb] {
                            assert!(
                                matches!(s.last().unwrap().0, CallState::Terminated { .. }),
                                "{ctx}"
                            );
                        }
                        assert_empty(&mut sim, &[0, 1], &ctx);
                        continue;
                    }
                    for (side, s) in [(Side::Caller, &sa), (Side::Callee, &sb)] {
                        let only: Vec<CallState> = s
                            .iter()
                            .map(|x| x.0)
                            .filter(|x| *x != CallState::Calling)
                            .collect();
                        // The holder sees every step. The other side may not see Resumed
                        // when the hanger's BYE overtakes the ACK of the resume (the link
                        // reorders): its call then ends straight from Held.
                        let full = [CallState::Confirmed, CallState::Held, CallState::Resumed];
                        let n = only.len() - 1;
                        assert!(n == 3 || (n == 2 && side != holder), "{ctx}");
                        assert_eq!(only[..n], full[..n], "{ctx}");
                    }
                    let end = |side: Side| {
                        if side == hanger {
                            EndReason::LocalHangup
                        } else {
                            EndReason::RemoteHangup
                        }
                    };
                    assert_eq!(
                        sa.last().unwrap().0,
                        CallState::Terminated {
                            reason: end(Side::Caller)
                        },
                        "{ctx}"
                    );
                    assert_eq!(
                        sb.last().unwrap().0,
                        CallState::Terminated {
                            reason: end(Side::Callee)
                        },
                        "{ctx}"
                    );
                    // On the wire: two re-INVITE transactions and one BYE transaction
                    // (retransmissions share their branch).
                    let branches = |start: &str| {
                        sim.log
                            .iter()
                            .filter(|l| l.first_line().starts_with(start))
                            .map(|l| {
                                let m = parse(&l.bytes);
                                (
                                    m.cseq().unwrap().seq,
                                    m.top_via().unwrap().branch().unwrap().to_string(),
                                )
                            })
                            .collect::<std::collections::BTreeSet<_>>()
                    };
                    assert_eq!(branches("INVITE ").len(), 3, "{ctx}");
                    assert_eq!(branches("BYE ").len(), 1, "{ctx}");
                    assert_empty(&mut sim, &[0, 1], &ctx);
                }
            }
        }
    }
    assert_eq!(runs, 3000);
    // Rare: a request lost 7 times in a row.
    assert!(timeouts <= 6, "{timeouts} timeouts");
}

#[test]
fn glare_gets_491_and_each_side_retries_after_its_14_1_delay() {
    let mut sim = two(5);
    sim.ep(0).call(Instant::ZERO, bob(), offer()).unwrap();
    let (mut ea, mut eb) = (vec![], vec![]);
    let mut up = Vec::new();
    sim.run_to_end(|ep, n, now, e| {
        match &e {
            Event::IncomingCall { call, .. } => ep
                .answer(now, *call, Some(Bytes::from_static(SDP_B)))
                .unwrap(),
            Event::CallState {
                call,
                state: CallState::Confirmed,
                ..
            } => up.push((n, *call)),
            _ => {}
        }
        if n == 0 {
            ea.push((now, e))
        } else {
            eb.push((now, e))
        }
    });
    // Both sides hold at the same instant: the re-INVITEs cross.
    let now = sim.now;
    for (n, call) in up {
        sim.ep(n).hold(now, call).unwrap();
    }
    sim.run_to_end(|_, n, now, e| {
        if n == 0 {
            ea.push((now, e))
        } else {
            eb.push((now, e))
        }
    });
    let lines: Vec<(&str, &str, f64)> = sim.log[3..]
        .iter()
        .map(|l| {
            (
                who(&sim, l),
                l.first_line(),
                l.secs() - now.as_micros() as f64 / 1e6,
            )
        })
        .collect();
    let mut glare: Vec<_> = lines.iter().map(|(w, l, _)| (*w, *l)).take(6).collect();
    glare[2..4].sort();
    glare[4..6].sort();
    assert_eq!(
        glare,
        [
            ("A", "INVITE sip:10.0.0.2:5060 SIP/2.0"),
            ("B", "INVITE sip:10.0.0.1:5060 SIP/2.0"),
            ("A", "SIP/2.0 491 Request Pending"),
            ("B", "SIP/2.0 491 Request Pending"),
            ("A", "ACK sip:10.0.0.2:5060 SIP/2.0"),
            ("B", "ACK sip:10.0.0.1:5060 SIP/2.0"),
        ]
    );
    // §14.1: B does not own the Call-ID: it retries within 0–2 s of the 491; A owns it:
    // 2.1–4 s.
    let retry = |w: &str| {
        lines[6..]
            .iter()
            .find(|(x, l, _)| *x == w && l.starts_with("INVITE"))
            .map(|x| x.2)
            .unwrap()
    };
    let (a, b) = (retry("A"), retry("B"));
    assert!((0.0..=2.0 + 0.02).contains(&b), "B retried at {b}");
    assert!((2.1..=4.0 + 0.02).contains(&a), "A retried at {a}");
    // Both holds went through in the end.
    assert!(states(&ea).contains(&(CallState::Held, Some(200))));
    assert!(states(&eb).contains(&(CallState::Held, Some(200))));
    assert_eq!(
        sim.log
            .iter()
            .filter(|l| l.first_line() == "SIP/2.0 491 Request Pending")
            .count(),
        2
    );
}

#[test]
fn a_481_or_no_answer_to_a_reinvite_ends_the_dialog() {
    // 481: B lost the dialog (here: B restarted). A ends the call; no BYE (nothing to end).
    let mut sim = two(7);
    let call = sim.ep(0).call(Instant::ZERO, bob(), offer()).unwrap();
    sim.run_to_end(|ep, _, now, e| {
        if let Event::IncomingCall { call, .. } = e {
            ep.answer(now, call, Some(Bytes::from_static(SDP_B)))
                .unwrap();
        }
    });
    let cfg = sim.ep(1).config().clone();
    sim.nodes[1].ep = Endpoint::new(cfg, sim.now);
    let now = sim.now;
    sim.ep(0).hold(now, call).unwrap();
    let mut ea = vec![];
    sim.run_to_end(|_, n, now, e| {
        if n == 0 {
            ea.push((now, e))
        }
    });
    assert_eq!(
        states(&ea),
        [(
            CallState::Terminated {
                reason: EndReason::DialogGone
            },
            Some(481)
        )]
    );
    assert_eq!(
        sim.log.last().unwrap().first_line(),
        "ACK sip:10.0.0.2:5060 SIP/2.0"
    );
    assert!(!sim.log.iter().any(|l| l.first_line().starts_with("BYE")));
    assert_empty(&mut sim, &[0, 1], "481");

    // No answer at all (B vanished): Timer B, then BYE (the peer may still hold the
    // dialog), and the call ends.
    let mut sim = two(8);
    let call = sim.ep(0).call(Instant::ZERO, bob(), offer()).unwrap();
    sim.run_to_end(|ep, _, now, e| {
        if let Event::IncomingCall { call, .. } = e {
            ep.answer(now, call, Some(Bytes::from_static(SDP_B)))
                .unwrap();
        }
    });
    sim.nodes[1].sink = true;
    let start = sim.now;
    sim.ep(0).hold(start, call).unwrap();
    let mut ea = vec![];
    sim.run_to_end(|_, n, now, e| {
        if n == 0 {
            ea.push((now, e))
        }
    });
    let (at, last) = ea.last().unwrap();
    assert!(matches!(
        last,
        Event::CallState {
            state: CallState::Terminated {
                reason: EndReason::DialogGone
            },
            status: Some(408),
            ..
        }
    ));
    assert_eq!(at.saturating_duration_since(start).as_secs_f64(), 32.0);
    assert!(sim
        .log
        .iter()
        .any(|l| l.first_line() == "BYE sip:10.0.0.2:5060 SIP/2.0"));
}

/// A BYE refused 500 because a later request of ours in the dialog reached the peer first
/// (RFC 3261 §12.2.2: a lower CSeq than the last received is refused 500) goes again once,
/// as a new request above every CSeq used in the dialog (§12.2.1.1, §21.5.1); a second 500
/// ends it there.
#[test]
fn a_bye_refused_500_goes_again_once_with_a_higher_cseq() {
    let mut a = Manual::new(1, |_| {});
    let call = a.ep.call(a.now, bob(), offer()).unwrap();
    let invite = a.sent().remove(0);
    a.recv(
        "10.0.0.2:5060",
        &reply(&invite, 200, "b", Some("sip:bob@10.0.0.2:5060")),
    );
    a.sent(); // the ACK
    a.ep.hangup(a.now, call).unwrap();
    let bye = a.sent().remove(0);
    assert_eq!(bye.method().map(|m| m.as_str()), Some("BYE"));
    let seq = bye.cseq().unwrap().seq;
    a.recv("10.0.0.2:5060", &reply(&bye, 500, "b", None));
    let again = a.sent();
    assert_eq!(again.len(), 1, "one BYE again");
    let again = &again[0];
    assert_eq!(again.method().map(|m| m.as_str()), Some("BYE"));
    assert_eq!(again.cseq().unwrap().seq, seq + 1);
    assert_eq!(again.call_id(), bye.call_id());
    assert_eq!(again.from().unwrap().tag(), bye.from().unwrap().tag());
    assert_eq!(again.to().unwrap().tag(), Some("b"));
    assert_ne!(
        again.top_via().unwrap().branch(),
        bye.top_via().unwrap().branch(),
        "a new transaction"
    );
    // Refused again: no third one.
    a.recv("10.0.0.2:5060", &reply(again, 500, "b", None));
    assert!(a.sent().is_empty());
    // Nothing of the call is left once the transactions are over.
    a.wait_until(a.now + sipxfer::Duration::from_secs(40));
    let s = a.ep.stats();
    assert_eq!((s.transactions, s.dialogs, s.timers), (0, 0, 0));
    assert!(a
        .events()
        .iter()
        .all(|e| !matches!(e, Event::Response { .. })));
}

#[test]
fn forked_early_dialogs_first_2xx_wins_later_2xx_is_acked_and_byed() {
    let mut a = Manual::new(1, |_| {});
    let call = a.ep.call(a.now, bob(), offer()).unwrap();
    let invite = a.sent().remove(0);
    // A forking proxy relays a 180 from fork X and a 183 from fork Y: two early dialogs.
    a.recv(
        "10.0.0.2:5060",
        &reply(&invite, 180, "x", Some("sip:x@10.0.0.7")),
    );
    a.recv(
        "10.0.0.2:5060",
        &reply(&invite, 183, "y", Some("sip:y@10.0.0.8")),
    );
    let tags: Vec<String> =
        a.ep.dialogs(call)
            .map(|d| d.id.remote_tag.to_string())
            .collect();
    assert_eq!(tags, ["x", "y"]);
    // Y answers first: the call is Y's. X answers too: ACK then BYE to X.
    a.recv(
        "10.0.0.2:5060",
        &reply(&invite, 200, "y", Some("sip:y@10.0.0.8")),
    );
    a.recv(
        "10.0.0.2:5060",
        &reply(&invite, 200, "x", Some("sip:x@10.0.0.7")),
    );
    assert_eq!(
        requests(&a.sent()),
        [
            "ACK sip:y@10.0.0.8 to-tag=y cseq=1",
            "ACK sip:x@10.0.0.7 to-tag=x cseq=1",
            "BYE sip:x@10.0.0.7 to-tag=x cseq=2",
        ]
    );
    let tags: Vec<String> =
        a.ep.dialogs(call)
            .map(|d| d.id.remote_tag.to_string())
            .collect();
    assert_eq!(tags, ["y"]);
    let st: Vec<CallState> = a
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::CallState { state, .. } => Some(state),
            _ => None,
        })
        .collect();
    assert_eq!(
        st,
        [
            CallState::Calling,
            CallState::Ringing,
            CallState::Early,
            CallState::Confirmed
        ]
    );
}

/// Each message of `out`: method, Request-URI, To tag and CSeq.
fn requests(out: &[sipxfer::Message]) -> Vec<String> {
    out.iter()
        .map(|m| {
            format!(
                "{} {} to-tag={} cseq={}",
                m.method().unwrap().as_str(),
                sipxfer::msg::emit::uri_to_string(m.request_uri().unwrap()),
                m.to().unwrap().tag().unwrap(),
                m.cseq().unwrap().seq
            )
        })
        .collect()
}

/// A fork's 2xx that comes after the call ended here, while the INVITE's transaction still
/// lingers in Accepted (RFC 6026 §7.2: 64·T1 after the first 2xx), is ACKed and BYEd as it
/// would have been during the call (RFC 3261 §13.2.2.4: "The UAC core MUST generate an ACK
/// request for each 2xx received from the transaction layer"); the call's own 2xx again gets
/// an ACK only; the application hears of none of it.
#[test]
fn a_forks_2xx_after_the_call_ended_is_acked_and_byed() {
    let mut a = Manual::new(1, |_| {});
    let call = a.ep.call(a.now, bob(), offer()).unwrap();
    let invite = a.sent().remove(0);
    let y = reply(&invite, 200, "y", Some("sip:y@10.0.0.8"));
    a.recv("10.0.0.2:5060", &y);
    let ack = a.sent().remove(0);
    a.ep.hangup(a.now, call).unwrap();
    let bye = a.sent().remove(0);
    a.recv("10.0.0.2:5060", &reply(&bye, 200, "y", None));
    assert_eq!(
        states(
            &a.events()
                .into_iter()
                .map(|e| (a.now, e))
                .collect::<Vec<_>>()
        )
        .last(),
        Some(&(
            CallState::Terminated {
                reason: EndReason::LocalHangup
            },
            None
        ))
    );
    // Fork X answers 5 s after Y.
    a.wait_until(a.now + sipxfer::Duration::from_secs(5));
    let x = reply(&invite, 200, "x", Some("sip:x@10.0.0.7"));
    a.recv("10.0.0.2:5060", &x);
    let out = a.sent();
    assert_eq!(
        requests(&out),
        [
            "ACK sip:x@10.0.0.7 to-tag=x cseq=1",
            "BYE sip:x@10.0.0.7 to-tag=x cseq=2",
        ]
    );
    for m in &out {
        assert_eq!((m.call_id(), m.from()), (invite.call_id(), invite.from()));
    }
    // X's 2xx again: the same ACK, no second BYE.
    a.recv("10.0.0.2:5060", &x);
    let again = a.sent();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].to_bytes(), out[0].to_bytes());
    // Y's 2xx again (it never had our ACK): an ACK like the first, and no BYE — Y's dialog
    // was BYEd with the call.
    a.recv("10.0.0.2:5060", &y);
    let again = a.sent();
    assert_eq!(requests(&again), ["ACK sip:y@10.0.0.8 to-tag=y cseq=1"]);
    assert_eq!(requests(std::slice::from_ref(&ack)), requests(&again));
    assert_eq!(again[0].body, ack.body);
    assert_eq!(
        (again[0].from(), again[0].to(), again[0].call_id()),
        (ack.from(), ack.to(), ack.call_id())
    );
    a.recv("10.0.0.2:5060", &reply(&out[1], 200, "x", None));
    assert!(a.sent().is_empty());
    assert!(a.events().is_empty(), "the application hears of none of it");
    // Once the INVITE's transaction is over, nothing of the call is left.
    a.wait_until(a.now + sipxfer::Duration::from_secs(40));
    let s = a.ep.stats();
    assert_eq!((s.transactions, s.dialogs, s.timers), (0, 0, 0));
    // And a 2xx after that is not the call's any more: the application's.
    a.recv(
        "10.0.0.2:5060",
        &reply(&invite, 200, "z", Some("sip:z@10.0.0.9")),
    );
    assert!(a.sent().is_empty());
}

/// Forks' 2xx that come in one read of a TCP connection, during the call and after it: each
/// is ACKed and BYEd (§13.2.2.4), though sending a BYE starts a transaction, and the
/// endpoint handles the rest of the read before it returns.
#[test]
fn forks_2xx_in_one_tcp_read_are_each_acked_and_byed() {
    let mut a = Manual::new(1, |_| {});
    let b: std::net::SocketAddr = "10.0.0.2:5060".parse().unwrap();
    let dest = sipxfer::Destination {
        transport: sipxfer::Transport::Tcp,
        addr: b,
        conn: None,
    };
    let options = CallOptions {
        dest: Some(dest),
        ..offer()
    };
    let call = a.ep.call(a.now, bob(), options).unwrap();
    let invite = a.sent().remove(0);
    assert!(invite.to_bytes().starts_with(b"INVITE"));
    let conn = sipxfer::ConnId(7);
    a.ep.handle_connection_opened(a.now, conn, sipxfer::Transport::Tcp, a.me, b);
    let ok = |tag: &str| {
        let contact = format!("sip:{tag}@10.0.0.2:5060;transport=tcp");
        reply(&invite, 200, tag, Some(&contact)).to_bytes()
    };
    let read = |tags: &[&str]| {
        tags.iter()
            .flat_map(|t| ok(t).to_vec())
            .collect::<Vec<u8>>()
    };
    // Y wins; X and Z, in the same read, lose.
    a.ep.handle_stream_bytes(a.now, conn, &read(&["y", "x", "z"]));
    let uri = |t: &str| format!("sip:{t}@10.0.0.2:5060;transport=tcp to-tag={t}");
    assert_eq!(
        requests(&a.sent()),
        [
            format!("ACK {} cseq=1", uri("y")),
            format!("ACK {} cseq=1", uri("x")),
            format!("BYE {} cseq=2", uri("x")),
            format!("ACK {} cseq=1", uri("z")),
            format!("BYE {} cseq=2", uri("z")),
        ]
    );
    // The call ends; then V and W come together.
    a.ep.hangup(a.now, call).unwrap();
    assert_eq!(a.sent()[0].method().unwrap().as_str(), "BYE");
    a.ep.handle_stream_bytes(a.now, conn, &read(&["v", "w", "v"]));
    assert_eq!(
        requests(&a.sent()),
        [
            format!("ACK {} cseq=1", uri("v")),
            format!("BYE {} cseq=2", uri("v")),
            format!("ACK {} cseq=1", uri("w")),
            format!("BYE {} cseq=2", uri("w")),
            format!("ACK {} cseq=1", uri("v")),
        ]
    );
    assert!(a
        .events()
        .iter()
        .all(|e| !matches!(e, Event::Response { .. })));
}

/// A CANCEL crossed fork X's 2xx: X is ACKed and BYEd and the call ends; fork Y's 2xx
/// after that is ACKed and BYEd too (§13.2.2.4: "the UAC MUST terminate the dialog by
/// sending a BYE request").
#[test]
fn a_second_forks_2xx_after_a_cancel_crossed_the_first_is_acked_and_byed() {
    let mut a = Manual::new(1, |_| {});
    let call = a.ep.call(a.now, bob(), offer()).unwrap();
    let invite = a.sent().remove(0);
    a.recv(
        "10.0.0.2:5060",
        &reply(&invite, 180, "x", Some("sip:x@10.0.0.7")),
    );
    a.recv(
        "10.0.0.2:5060",
        &reply(&invite, 180, "y", Some("sip:y@10.0.0.8")),
    );
    a.ep.hangup(a.now, call).unwrap();
    let cancel = a.sent().remove(0);
    assert_eq!(cancel.method().unwrap().as_str(), "CANCEL");
    a.recv(
        "10.0.0.2:5060",
        &reply(&invite, 200, "x", Some("sip:x@10.0.0.7")),
    );
    assert_eq!(
        requests(&a.sent()),
        [
            "ACK sip:x@10.0.0.7 to-tag=x cseq=1",
            "BYE sip:x@10.0.0.7 to-tag=x cseq=2",
        ]
    );
    let ended = a.events().into_iter().any(|e| {
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
    a.recv(
        "10.0.0.2:5060",
        &reply(&invite, 200, "y", Some("sip:y@10.0.0.8")),
    );
    assert_eq!(
        requests(&a.sent()),
        [
            "ACK sip:y@10.0.0.8 to-tag=y cseq=1",
            "BYE sip:y@10.0.0.8 to-tag=y cseq=2",
        ]
    );
    assert!(a.events().is_empty());
}

#[test]
fn a_call_through_a_record_routing_proxy() {
    let mut sim = Sim::new(9);
    sim.add_endpoint("10.0.0.1:5060");
    sim.add_endpoint("10.0.0.2:5060");
    sim.add_proxy("10.0.0.3:5060");
    let dest = sipxfer::Destination::udp("10.0.0.3:5060".parse().unwrap());
    let options = CallOptions {
        dest: Some(dest),
        ..offer()
    };
    sim.ep(0).call(Instant::ZERO, bob(), options).unwrap();
    let mut step = 0;
    sim.run_to_end(|ep, n, now, e| match &e {
        Event::IncomingCall { call, .. } => ep
            .answer(now, *call, Some(Bytes::from_static(SDP_B)))
            .unwrap(),
        Event::CallState { call, state, .. } => match (state, n, step) {
            (CallState::Confirmed, 0, 0) => {
                step = 1;
                ep.hold(now, *call).unwrap()
            }
            (CallState::Held, 1, 1) => {
                step = 2;
                ep.resume(now, *call).unwrap()
            }
            (CallState::Resumed, 1, 2) => {
                step = 3;
                ep.hangup(now, *call).unwrap()
            }
            _ => {}
        },
        _ => {}
    });
    assert_eq!(step, 3);
    let hops: Vec<(&str, &str, String)> = sim
        .log
        .iter()
        .map(|l| {
            let to = ["A", "B", "P"][sim.nodes.iter().position(|n| n.addr == l.to).unwrap()];
            (who(&sim, l), to, l.first_line().to_string())
        })
        .collect();
    let route = "<sip:10.0.0.3:5060;lr>";
    // Every request and response crosses P, both ways.
    for (from, to, _) in &hops {
        assert!(*from == "P" || *to == "P", "{hops:?}");
    }
    for l in &sim.log {
        let m = parse(&l.bytes);
        let from = who(&sim, l);
        if !m.is_request() || from == "P" {
            continue;
        }
        let routes: Vec<String> = m
            .routes()
            .map(|r| format!("<{}>", sipxfer::msg::emit::uri_to_string(&r.uri)))
            .collect();
        let uri = sipxfer::msg::emit::uri_to_string(m.request_uri().unwrap());
        let first = m.to().unwrap().tag().is_none();
        match (from, first) {
            // The dialog-creating INVITE: no Route, Request-URI the target.
            ("A", true) => {
                assert!(routes.is_empty());
                assert_eq!(uri, "sip:bob@10.0.0.2:5060");
            }
            // In-dialog from A (ACK, re-INVITE): Route = the Record-Route, Request-URI =
            // B's Contact (loose routing, §12.2.1.1).
            ("A", false) => {
                assert_eq!(routes, [route], "{}", l.first_line());
                assert_eq!(uri, "sip:10.0.0.2:5060");
            }
            // In-dialog from B (re-INVITE, ACK, BYE): Route = the Record-Route, Request-URI
            // = A's Contact.
            ("B", false) => {
                assert_eq!(routes, [route], "{}", l.first_line());
                assert_eq!(uri, "sip:10.0.0.1:5060");
            }
            x => panic!("{x:?}"),
        }
    }
    let methods: Vec<String> = hops
        .iter()
        .filter(|(f, _, _)| *f != "P")
        .map(|(f, _, l)| format!("{f} {}", l.split(' ').next().unwrap()))
        .collect();
    assert_eq!(
        methods,
        [
            "A INVITE",
            "B SIP/2.0",
            "A ACK",
            "A INVITE",
            "B SIP/2.0",
            "A ACK",
            "B INVITE",
            "A SIP/2.0",
            "B ACK",
            "B BYE",
            "A SIP/2.0"
        ]
    );
    assert_empty(&mut sim, &[0, 1], "proxy");
}

#[test]
fn limits_486_per_remote_and_413_for_large_bodies() {
    let mut sim = Sim::new(10);
    sim.add_endpoint("10.0.0.1:5060");
    let mut cfg = sipxfer::Config::new("10.0.0.2:5060".parse().unwrap(), [2; 32]);
    cfg.max_calls_per_remote = 2;
    cfg.max_body_size = 1000;
    sim.add_endpoint_with(cfg);
    for _ in 0..3 {
        sim.ep(0).call(Instant::ZERO, bob(), offer()).unwrap();
    }
    let big = CallOptions {
        offer: Some(Bytes::from(vec![b'x'; 1001])),
        ..Default::default()
    };
    sim.ep(0).call(Instant::ZERO, bob(), big).unwrap();
    let mut ends = vec![];
    sim.run(Instant::from_micros(1_000_000), |_, n, _, e| {
        if let (
            0,
            Event::CallState {
                state: CallState::Terminated { .. },
                status,
                ..
            },
        ) = (n, e)
        {
            ends.push(status)
        }
    });
    ends.sort();
    assert_eq!(ends, [Some(413), Some(486)]);
}

/// The callee hangs up before the ACK of its 2xx (§15: the BYE waits for the ACK); the
/// ACK is lost and the caller's next INVITE stands for it: the BYE goes, and the re-INVITE
/// gets 481 (the dialog is over) — never a panic.
#[test]
fn reinvite_standing_for_the_ack_of_a_call_hung_up_meanwhile() {
    use sipxfer::msg::builder::RequestBuilder;
    use sipxfer::msg::{Method, NameAddr};
    let mut b = Manual::new(3, |_| {});
    // Both INVITEs carry an offer (an offerless one would have our offer in the 2xx, and a
    // re-INVITE before the ACK that answers it gets 491: `races::s3_1_5`).
    let invite = |cseq: u32, to_tag: Option<&str>, branch: &str| {
        let me = Uri::parse("sip:bob@10.0.0.1").unwrap();
        let mut to = NameAddr::new(me.clone());
        if let Some(t) = to_tag {
            to.params.push("tag", Some(t));
        }
        let sdp = sipxfer::msg::MediaType {
            ty: "application".into(),
            subtype: "sdp".into(),
            params: Default::default(),
        };
        RequestBuilder::new(Method::Invite, me)
            .via("UDP", "10.0.0.2", Some(5060), branch)
            .from(
                NameAddr::new(Uri::parse("sip:alice@10.0.0.2").unwrap()),
                "atag",
            )
            .to(to)
            .call_id("c1")
            .cseq(cseq)
            .body(sdp, Bytes::from_static(SDP_A))
            .build()
    };
    b.recv("10.0.0.2:5060", &invite(1, None, "z9hG4bK-1"));
    let call = b
        .events()
        .into_iter()
        .find_map(|e| match e {
            Event::IncomingCall { call, .. } => Some(call),
            _ => None,
        })
        .unwrap();
    b.ep.answer(b.now, call, Some(Bytes::from_static(SDP_B)))
        .unwrap();
    b.ep.hangup(b.now, call).unwrap();
    let ok = b.sent().remove(0);
    let tag = ok.to().unwrap().tag().unwrap().to_string();
    b.recv("10.0.0.2:5060", &invite(2, Some(&tag), "z9hG4bK-2"));
    let out: Vec<String> = b
        .sent()
        .iter()
        .map(|m| match m.status() {
            Some(c) => format!("{c} {}", m.cseq().unwrap().method.as_str()),
            None => m.method().unwrap().as_str().to_string(),
        })
        .collect();
    assert_eq!(out, ["BYE", "481 INVITE"]);
    assert!(!b.ep.call_is_live(call));
}
