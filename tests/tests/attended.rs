//! Attended transfer (RFC 5589 §7, RFC 3891) among three simulated endpoints: A (transferor)
//! 10.0.0.1, B (transferee) 10.0.0.2, C (target) 10.0.0.3. A has a call with B and a
//! consultation call with C — placed by A, or by C — and REFERs B to C with `Replaces`
//! naming the consultation dialog; B's INVITE replaces it at C.

use bytes::Bytes;
use sipxfer::msg::Uri;
use sipxfer::{
    AttendedOptions, CallId, CallState, EndReason, Error, Event, Instant, SdpKind, Transfer,
    TransferOutcome,
};
use sipxfer_tests::flows::parse;
use sipxfer_tests::sim::{Link, Sim};

const SDP: [&[u8]; 3] = [
    b"v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
    b"v=0\r\no=b 2 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n",
    b"v=0\r\no=c 3 1 IN IP4 10.0.0.3\r\ns=-\r\nc=IN IP4 10.0.0.3\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n",
];

type Events = Vec<(Instant, Event)>;

/// Who placed the consultation call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Consult {
    ACallsC,
    CCallsA,
}

struct Run {
    sim: Sim,
    events: [Events; 3],
    /// A's calls: with B, with C.
    ab: CallId,
    ac: Option<CallId>,
    /// B's calls: with A, with C (placed by the transfer).
    ba: Option<CallId>,
    bc: Option<CallId>,
    /// C's calls: the consultation, the replacing one.
    ca: Option<CallId>,
    cb: Option<CallId>,
    refused: Option<Error>,
}

fn sim(seed: u64, loss: f64) -> Sim {
    let mut sim = Sim::new(seed);
    if loss > 0.0 {
        sim.set_default_link(Link::lossy(loss));
    }
    for a in ["10.0.0.1:5060", "10.0.0.2:5060", "10.0.0.3:5060"] {
        sim.add_endpoint(a);
    }
    sim
}

fn offer(n: usize) -> sipxfer::CallOptions {
    sipxfer::CallOptions {
        offer: Some(Bytes::from_static(SDP[n])),
        ..Default::default()
    }
}

/// A calls B; once up, the consultation call is set up (`consult`), and once both are up A
/// transfers B to C, attended, with `options`.
fn attended(mut sim: Sim, consult: Consult, options: AttendedOptions) -> Run {
    let ab = sim
        .ep(0)
        .call(
            Instant::ZERO,
            Uri::parse("sip:bob@10.0.0.2").unwrap(),
            offer(0),
        )
        .unwrap();
    let mut run = Run {
        sim: Sim::new(0),
        events: Default::default(),
        ab,
        ac: None,
        ba: None,
        bc: None,
        ca: None,
        cb: None,
        refused: None,
    };
    let mut consulting = false;
    let mut transferred = false;
    let c_ready = std::cell::Cell::new(false);
    let mut app = |ep: &mut sipxfer::Endpoint, n: usize, now: Instant, e: Event| {
        match (&e, n) {
            (Event::IncomingCall { call, .. }, 1) => {
                run.ba = Some(*call);
                ep.answer(now, *call, Some(Bytes::from_static(SDP[1])))
                    .unwrap();
            }
            (Event::IncomingCall { call, replaces, .. }, 2) => {
                if replaces.is_some() {
                    run.cb = Some(*call);
                } else {
                    run.ca = Some(*call);
                }
                ep.answer(now, *call, Some(Bytes::from_static(SDP[2])))
                    .unwrap();
            }
            (Event::IncomingCall { call, .. }, 0) => {
                // C calls A (the consultation, placed by C).
                run.ac = Some(*call);
                ep.answer(now, *call, Some(Bytes::from_static(SDP[0])))
                    .unwrap();
            }
            (
                Event::CallState {
                    call,
                    state: CallState::Confirmed,
                    ..
                },
                0,
            ) => {
                if *call == ab && !consulting {
                    consulting = true;
                    if consult == Consult::ACallsC {
                        let c = Uri::parse("sip:carol@10.0.0.3").unwrap();
                        run.ac = Some(ep.call(now, c, offer(0)).unwrap());
                    } else {
                        c_ready.set(true);
                    }
                } else if Some(*call) == run.ac && !transferred {
                    transferred = true;
                    let t = Transfer::Attended {
                        consultation: *call,
                        options: options.clone(),
                    };
                    if let Err(e) = ep.transfer(now, ab, t) {
                        run.refused = Some(e);
                    }
                }
            }
            (Event::IncomingTransfer { transfer, .. }, 1) => {
                run.bc = Some(ep.accept_transfer(now, *transfer, None).unwrap());
            }
            _ => {}
        }
        run.events[n].push((now, e));
    };
    let mut placed = None;
    if consult == Consult::CCallsA {
        // C calls A once A's call with B is up (under loss that may take a while, or never
        // happen: then there is no transfer).
        while !c_ready.get() && sim.now < Instant::from_secs(40) {
            let next = sim.now + std::time::Duration::from_millis(500);
            sim.run(next, &mut app);
        }
        if c_ready.get() {
            let now = sim.now;
            let a = Uri::parse("sip:alice@10.0.0.1").unwrap();
            placed = Some(sim.ep(2).call(now, a, offer(2)).unwrap());
        }
    }
    sim.run_to_end(&mut app);
    if placed.is_some() {
        run.ca = placed;
    }
    run.sim = sim;
    run
}

fn outcomes(events: &Events) -> Vec<TransferOutcome> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::TransferOutcome { outcome, .. } => Some(*outcome),
            _ => None,
        })
        .collect()
}

fn ends(events: &Events, call: CallId) -> Vec<EndReason> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::CallState {
                call: c,
                state: CallState::Terminated { reason },
                ..
            } if *c == call => Some(*reason),
            _ => None,
        })
        .collect()
}

fn last_state(events: &Events, call: CallId) -> Option<CallState> {
    events.iter().rev().find_map(|(_, e)| match e {
        Event::CallState { call: c, state, .. } if *c == call => Some(*state),
        _ => None,
    })
}

/// Hangs up the new call and runs until every endpoint is empty.
fn settle(run: &mut Run, ctx: &str) {
    let now = run.sim.now;
    for (n, call) in [(1, run.bc), (0, Some(run.ab)), (0, run.ac)] {
        if let Some(call) = call {
            if run.sim.ep(n).call_is_live(call) {
                run.sim.ep(n).hangup(now, call).unwrap();
            }
        }
    }
    run.sim.run_to_end(|_, _, _, _| {});
    for n in 0..3 {
        let s = run.sim.ep(n).stats();
        assert_eq!(
            (s.transactions, s.timers, s.dialogs, s.subscriptions),
            (0, 0, 0, 0),
            "{ctx}: node {n} {s:?}"
        );
    }
}

/// The RFC 5589 §7 flow, every message of the transfer and every event asserted.
fn on_the_wire(consult: Consult) {
    let mut run = attended(sim(1, 0.0), consult, AttendedOptions::default());
    assert_eq!(run.refused, None);
    let (ac, ca, bc, cb, ba) = (
        run.ac.unwrap(),
        run.ca.unwrap(),
        run.bc.unwrap(),
        run.cb.unwrap(),
        run.ba.unwrap(),
    );
    // The consultation dialog as A sees it: C's tag is A's remote tag.
    let log = run.sim.log.clone();
    let msgs: Vec<(std::net::SocketAddr, std::net::SocketAddr, sipxfer::Message)> = log
        .iter()
        .map(|l| (l.from, l.to, parse(&l.bytes)))
        .collect();
    let a_addr: std::net::SocketAddr = "10.0.0.1:5060".parse().unwrap();
    let b_addr: std::net::SocketAddr = "10.0.0.2:5060".parse().unwrap();
    let c_addr: std::net::SocketAddr = "10.0.0.3:5060".parse().unwrap();
    let consult_invite = &msgs
        .iter()
        .find(|(_, _, m)| {
            m.method().map(|x| x.as_str()) == Some("INVITE")
                && m.to().and_then(|t| t.tag()).is_none()
                && ((m.request_uri().unwrap().to_string() == "sip:carol@10.0.0.3")
                    || m.request_uri().unwrap().to_string() == "sip:alice@10.0.0.1")
        })
        .unwrap()
        .2;
    let consult_ok = &msgs
        .iter()
        .find(|(_, _, m)| m.status() == Some(200) && m.call_id() == consult_invite.call_id())
        .unwrap()
        .2;
    let (a_tag, c_tag) = match consult {
        Consult::ACallsC => (
            consult_ok.from().unwrap().tag().unwrap().to_string(),
            consult_ok.to().unwrap().tag().unwrap().to_string(),
        ),
        Consult::CCallsA => (
            consult_ok.to().unwrap().tag().unwrap().to_string(),
            consult_ok.from().unwrap().tag().unwrap().to_string(),
        ),
    };
    // A -> B: REFER whose Refer-To is C's Contact with the escaped Replaces: to-tag is C's
    // tag, from-tag A's — as C sees the dialog (RFC 3891 §3), whoever placed the call.
    let refer = &msgs
        .iter()
        .find(|(_, _, m)| m.method().map(|x| x.as_str()) == Some("REFER"))
        .unwrap()
        .2;
    let refer_to = refer.refer_to().unwrap();
    assert!(
        refer_to
            .uri
            .to_string()
            .starts_with("sip:10.0.0.3:5060?Replaces="),
        "{}",
        refer_to.uri
    );
    let r = refer_to.embedded_replaces().unwrap().unwrap();
    assert_eq!(Some(&*r.call_id), consult_invite.call_id());
    assert_eq!((r.to_tag(), r.from_tag()), (c_tag.as_str(), a_tag.as_str()));
    assert!(!r.early_only());
    assert!(refer.referred_by().is_some());
    // B -> C: INVITE with that Replaces as a header, and Referred-By.
    let (_, to, invite) = msgs
        .iter()
        .find(|(_, _, m)| {
            m.method().map(|x| x.as_str()) == Some("INVITE") && m.replaces().is_some()
        })
        .unwrap();
    assert_eq!(*to, c_addr);
    let replaces = invite.replaces().unwrap();
    assert_eq!(
        (&*replaces.call_id, replaces.to_tag(), replaces.from_tag()),
        (&*r.call_id, r.to_tag(), r.from_tag())
    );
    assert_eq!(invite.referred_by(), refer.referred_by());
    assert_ne!(invite.call_id(), consult_invite.call_id());
    // C answers B, then ends the replaced dialog with BYE to A (RFC 3891 §3).
    let ok_pos = msgs
        .iter()
        .position(|(_, _, m)| m.status() == Some(200) && m.call_id() == invite.call_id())
        .unwrap();
    let bye_pos = msgs
        .iter()
        .position(|(from, to, m)| {
            m.method().map(|x| x.as_str()) == Some("BYE")
                && m.call_id() == consult_invite.call_id()
                && *from == c_addr
                && *to == a_addr
        })
        .expect("C BYEs the replaced dialog");
    assert!(
        ok_pos < bye_pos,
        "C answers the new INVITE, then BYEs the old dialog"
    );
    // NOTIFYs 100 … 200 to A; A BYEs B.
    let frags: Vec<String> = msgs
        .iter()
        .filter(|(_, _, m)| m.method().map(|x| x.as_str()) == Some("NOTIFY"))
        .map(|(_, _, m)| String::from_utf8_lossy(&m.body).into_owned())
        .collect();
    assert_eq!(
        frags.first().map(String::as_str),
        Some("SIP/2.0 100 Trying\r\n")
    );
    assert_eq!(frags.last().map(String::as_str), Some("SIP/2.0 200 OK\r\n"));
    assert!(msgs.iter().any(|(from, _, m)| *from == a_addr
        && m.method().map(|x| x.as_str()) == Some("BYE")
        && m.call_id() == refer.call_id()));
    // Events at each party.
    let [ea, eb, ec] = &run.events;
    assert_eq!(outcomes(ea), [TransferOutcome::Succeeded]);
    assert_eq!(outcomes(eb), [TransferOutcome::Succeeded]);
    assert_eq!(ends(ea, run.ab), [EndReason::LocalHangup]);
    assert_eq!(ends(ea, ac), [EndReason::RemoteHangup]);
    assert_eq!(ends(eb, ba), [EndReason::RemoteHangup]);
    assert_eq!(last_state(eb, bc), Some(CallState::Confirmed));
    assert!(ec.iter().any(|(_, e)| matches!(
        e,
        Event::IncomingCall { call, replaces: Some(old), referred_by: Some(_), .. }
            if *call == cb && *old == ca
    )));
    assert_eq!(
        ends(ec, ca),
        [EndReason::Replaced],
        "the replaced call ends once"
    );
    assert_eq!(last_state(ec, cb), Some(CallState::Confirmed));
    // The media B learns for its call to C (`Event::RemoteSdp`): C's answer, the body of
    // C's 2xx to the INVITE with Replaces; and the offer C gets with that INVITE is B's.
    let answers: Vec<(SdpKind, Option<u16>, Bytes)> = eb
        .iter()
        .filter_map(|(_, e)| match e {
            Event::RemoteSdp {
                call,
                kind,
                status,
                sdp,
            } if *call == bc => Some((*kind, *status, sdp.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        answers,
        [(SdpKind::Answer, Some(200), Bytes::from_static(SDP[2]))],
        "{consult:?}"
    );
    let offer_at_c = ec.iter().find_map(|(_, e)| match e {
        Event::IncomingCall { call, offer, .. } if *call == cb => offer.clone(),
        _ => None,
    });
    let b_invite = msgs
        .iter()
        .find(|(from, to, m)| {
            *from == b_addr && *to == c_addr && m.method().map(|x| x.as_str()) == Some("INVITE")
        })
        .map(|(_, _, m)| m.body.clone());
    assert_eq!(offer_at_c, b_invite, "{consult:?}");
    settle(&mut run, &format!("{consult:?}"));
}

#[test]
fn rfc5589_attended_transfer_a_called_c() {
    on_the_wire(Consult::ACallsC);
}

#[test]
fn rfc5589_attended_transfer_c_called_a() {
    on_the_wire(Consult::CCallsA);
}

#[test]
fn the_consultation_can_be_held_too() {
    let options = AttendedOptions {
        hold_consultation: true,
        ..Default::default()
    };
    let mut run = attended(sim(3, 0.0), Consult::ACallsC, options);
    let [ea, ..] = &run.events;
    let ac = run.ac.unwrap();
    assert!(ea.iter().any(|(_, e)| matches!(
        e,
        Event::CallState { call, state: CallState::Held, .. } if *call == ac
    )));
    assert_eq!(outcomes(ea), [TransferOutcome::Succeeded]);
    settle(&mut run, "held consultation");
}

#[test]
fn a_transfer_whose_consultation_is_itself_is_refused_before_anything_is_sent() {
    let mut s = sim(4, 0.0);
    let ab = s
        .ep(0)
        .call(
            Instant::ZERO,
            Uri::parse("sip:bob@10.0.0.2").unwrap(),
            offer(0),
        )
        .unwrap();
    // A second call, to C, which refuses it: a call id that is no longer live.
    let dead = s
        .ep(0)
        .call(
            Instant::ZERO,
            Uri::parse("sip:carol@10.0.0.3").unwrap(),
            offer(0),
        )
        .unwrap();
    s.run_to_end(|ep, n, now, e| match (e, n) {
        (Event::IncomingCall { call, .. }, 1) => ep
            .answer(now, call, Some(Bytes::from_static(SDP[1])))
            .unwrap(),
        (Event::IncomingCall { call, .. }, 2) => ep.reject(now, call, 486).unwrap(),
        _ => {}
    });
    assert!(!s.ep(0).call_is_live(dead));
    let sent = s.log.len();
    let now = s.now;
    let t = Transfer::Attended {
        consultation: ab,
        options: Default::default(),
    };
    assert!(matches!(
        s.ep(0).transfer(now, ab, t),
        Err(Error::InvalidTransfer(_))
    ));
    let gone = Transfer::Attended {
        consultation: dead,
        options: Default::default(),
    };
    assert_eq!(s.ep(0).transfer(now, ab, gone), Err(Error::UnknownCall));
    assert!(s.ep(0).poll_transmit().is_none());
    s.run_to_end(|_, _, _, _| {});
    assert_eq!(s.log.len(), sent, "nothing sent");
}

/// Thousands of seeds of loss, duplication and reordering: the same outcome at A, B and C,
/// the replaced call ended exactly once, every endpoint empty after the last timer.
#[test]
fn attended_transfer_under_loss_same_outcome_everywhere() {
    let (mut runs, mut untried, mut succeeded) = (0, 0, 0);
    for (loss, consult) in [(0.1, Consult::ACallsC), (0.3, Consult::CCallsA)] {
        for seed in 0..1000 {
            let mut run = attended(sim(seed, loss), consult, AttendedOptions::default());
            runs += 1;
            let ctx = format!("loss {loss} seed {seed} {consult:?}");
            let [ea, eb, ec] = &run.events;
            let (oa, ob) = (outcomes(ea), outcomes(eb));
            if run.ac.is_none() || run.ca.is_none() {
                // The loss kept a call from being set up: no transfer was tried.
                assert!(oa.is_empty() && ob.is_empty(), "{ctx}");
                untried += 1;
                settle(&mut run, &ctx);
                continue;
            }
            if oa.is_empty() {
                // The consultation call failed under loss before the transfer.
                untried += 1;
                settle(&mut run, &ctx);
                continue;
            }
            assert_eq!(oa.len(), 1, "{ctx}: {oa:?}");
            assert_eq!(oa, ob, "{ctx}: A and B agree");
            let ca = run.ca.expect("C had the consultation");
            let replaced = ends(ec, ca);
            if oa == [TransferOutcome::Succeeded] {
                succeeded += 1;
                assert_eq!(replaced, [EndReason::Replaced], "{ctx}");
                let cb = run.cb.expect("C got B's call");
                assert!(
                    matches!(
                        last_state(ec, cb),
                        Some(
                            CallState::Confirmed
                                | CallState::Terminated {
                                    reason: EndReason::NoAck
                                }
                        )
                    ),
                    "{ctx}"
                );
                assert_eq!(ends(ea, run.ac.unwrap()).len(), 1, "{ctx}");
            } else {
                assert!(replaced.len() <= 1, "{ctx}: {replaced:?}");
            }
            settle(&mut run, &ctx);
        }
    }
    assert_eq!(runs, 2000);
    assert!(untried < 100, "{untried} runs never got to the transfer");
    eprintln!("{runs} runs: {succeeded} succeeded, {untried} never got to the transfer");
    assert!(succeeded > 1800, "{succeeded} of {runs} succeeded");
}

/// The sim with A's call with B up, and that call.
fn a_with_b(seed: u64) -> (Sim, CallId) {
    let mut s = sim(seed, 0.0);
    let ab = s
        .ep(0)
        .call(
            Instant::ZERO,
            Uri::parse("sip:bob@10.0.0.2").unwrap(),
            offer(0),
        )
        .unwrap();
    s.run_to_end(|ep, n, now, e| {
        if let (Event::IncomingCall { call, .. }, 1) = (e, n) {
            ep.answer(now, call, Some(Bytes::from_static(SDP[1])))
                .unwrap();
        }
    });
    (s, ab)
}

/// Every message sent, parsed, with sender and receiver index.
fn wire(s: &Sim) -> Vec<(usize, usize, sipxfer::Message)> {
    let idx = |a: std::net::SocketAddr| s.nodes.iter().position(|n| n.addr == a).unwrap();
    s.log
        .iter()
        .map(|l| (idx(l.from), idx(l.to), parse(&l.bytes)))
        .collect()
}

fn method_is(m: &sipxfer::Message, name: &str) -> bool {
    m.method().map(|x| x.as_str()) == Some(name)
}

/// RFC 5589 §7 with the consultation still ringing at the transferor: C called A, A rang but
/// did not answer. The early dialog is C's own, so C may replace it: the Replaces carries
/// `early-only`, C answers B and cancels its INVITE to A.
#[test]
fn consultation_ringing_at_the_transferor_is_replaced_early_only() {
    let (mut s, ab) = a_with_b(11);
    let now = s.now;
    let ca = s
        .ep(2)
        .call(now, Uri::parse("sip:alice@10.0.0.1").unwrap(), offer(2))
        .unwrap();
    let mut events: [Events; 3] = Default::default();
    let mut cb = None;
    s.run_to_end(|ep, n, now, e| {
        match (&e, n) {
            (Event::IncomingCall { call, .. }, 0) => {
                ep.ring(now, *call, 180).unwrap();
                let t = Transfer::Attended {
                    consultation: *call,
                    options: AttendedOptions::default(),
                };
                ep.transfer(now, ab, t).unwrap();
            }
            (Event::IncomingTransfer { transfer, .. }, 1) => {
                ep.accept_transfer(now, *transfer, None).unwrap();
            }
            (Event::IncomingCall { call, replaces, .. }, 2) => {
                assert_eq!(
                    *replaces,
                    Some(ca),
                    "B's call replaces C's ringing call to A"
                );
                cb = Some(*call);
                ep.answer(now, *call, Some(Bytes::from_static(SDP[2])))
                    .unwrap();
            }
            _ => {}
        }
        events[n].push((now, e));
    });
    let msgs = wire(&s);
    let refer = &msgs
        .iter()
        .find(|(_, _, m)| method_is(m, "REFER"))
        .unwrap()
        .2;
    let r = refer
        .refer_to()
        .unwrap()
        .embedded_replaces()
        .unwrap()
        .unwrap();
    assert!(r.early_only(), "the consultation is early: early-only");
    let invite = &msgs
        .iter()
        .find(|(f, _, m)| *f == 1 && method_is(m, "INVITE") && m.replaces().is_some())
        .unwrap()
        .2;
    assert!(invite.replaces().unwrap().early_only());
    // C cancels its own INVITE to A (RFC 3891 §3) once it has answered B.
    assert!(msgs
        .iter()
        .any(|(f, t, m)| *f == 2 && *t == 0 && method_is(m, "CANCEL")));
    let [ea, eb, ec] = &events;
    assert_eq!(outcomes(ea), [TransferOutcome::Succeeded]);
    assert_eq!(outcomes(eb), [TransferOutcome::Succeeded]);
    assert_eq!(ends(ec, ca), [EndReason::Replaced]);
    assert_eq!(last_state(ec, cb.unwrap()), Some(CallState::Confirmed));
    assert!(ea.iter().any(|(_, e)| matches!(
        e,
        Event::CallState {
            state: CallState::Terminated {
                reason: EndReason::Cancelled
            },
            ..
        }
    )));
}

/// RFC 5589 §7 with the consultation still ringing at the target: A called C, C has not
/// answered. C could not replace a dialog it did not initiate (RFC 3891 §3: 481), so A
/// cancels its INVITE and refers B to C without Replaces.
#[test]
fn consultation_ringing_at_the_target_is_cancelled_and_referred_blind() {
    let (mut s, ab) = a_with_b(12);
    let now = s.now;
    let ac = s
        .ep(0)
        .call(now, Uri::parse("sip:carol@10.0.0.3").unwrap(), offer(0))
        .unwrap();
    let mut events: [Events; 3] = Default::default();
    let mut rang = false;
    s.run_to_end(|ep, n, now, e| {
        match (&e, n) {
            (Event::IncomingCall { call, replaces, .. }, 2) => {
                assert_eq!(*replaces, None);
                if rang {
                    // B's call: answered.
                    ep.answer(now, *call, Some(Bytes::from_static(SDP[2])))
                        .unwrap();
                } else {
                    rang = true;
                    ep.ring(now, *call, 180).unwrap();
                }
            }
            (
                Event::CallState {
                    call,
                    state: CallState::Ringing,
                    ..
                },
                0,
            ) if *call == ac => {
                let t = Transfer::Attended {
                    consultation: ac,
                    options: AttendedOptions::default(),
                };
                ep.transfer(now, ab, t).unwrap();
            }
            (Event::IncomingTransfer { transfer, .. }, 1) => {
                ep.accept_transfer(now, *transfer, None).unwrap();
            }
            _ => {}
        }
        events[n].push((now, e));
    });
    let msgs = wire(&s);
    let cancel = msgs
        .iter()
        .position(|(f, t, m)| *f == 0 && *t == 2 && method_is(m, "CANCEL"));
    let refer = msgs
        .iter()
        .position(|(_, _, m)| method_is(m, "REFER"))
        .unwrap();
    assert!(cancel.is_some(), "A cancels its consultation INVITE");
    let r = &msgs[refer].2;
    assert_eq!(r.refer_to().unwrap().uri.to_string(), "sip:carol@10.0.0.3");
    assert!(r.refer_to().unwrap().embedded_replaces().unwrap().is_none());
    let [ea, eb, _] = &events;
    assert_eq!(outcomes(ea), [TransferOutcome::Succeeded]);
    assert_eq!(outcomes(eb), [TransferOutcome::Succeeded]);
    assert_eq!(ends(ea, ac), [EndReason::LocalHangup]);
}

/// The target refuses the replacing call (RFC 3891 §3 leaves that to its policy): the
/// transfer fails with that status at A and B, A takes its call with B back, and the
/// consultation call stays up.
#[test]
fn a_refused_replacement_fails_and_both_calls_stay() {
    let (mut s, ab) = a_with_b(13);
    let now = s.now;
    let ac = s
        .ep(0)
        .call(now, Uri::parse("sip:carol@10.0.0.3").unwrap(), offer(0))
        .unwrap();
    let mut events: [Events; 3] = Default::default();
    let mut ca = None;
    s.run_to_end(|ep, n, now, e| {
        match (&e, n) {
            (
                Event::IncomingCall {
                    call,
                    replaces: None,
                    ..
                },
                2,
            ) => {
                ca = Some(*call);
                ep.answer(now, *call, Some(Bytes::from_static(SDP[2])))
                    .unwrap();
            }
            (
                Event::IncomingCall {
                    call,
                    replaces: Some(_),
                    ..
                },
                2,
            ) => {
                ep.reject(now, *call, 603).unwrap();
            }
            (
                Event::CallState {
                    call,
                    state: CallState::Confirmed,
                    ..
                },
                0,
            ) if *call == ac => {
                let t = Transfer::Attended {
                    consultation: ac,
                    options: AttendedOptions::default(),
                };
                ep.transfer(now, ab, t).unwrap();
            }
            (Event::IncomingTransfer { transfer, .. }, 1) => {
                ep.accept_transfer(now, *transfer, None).unwrap();
            }
            _ => {}
        }
        events[n].push((now, e));
    });
    let [ea, eb, ec] = &events;
    assert_eq!(outcomes(ea), [TransferOutcome::Failed(603)]);
    assert_eq!(outcomes(eb), [TransferOutcome::Failed(603)]);
    assert_eq!(
        last_state(ea, ab),
        Some(CallState::Resumed),
        "A takes B back"
    );
    assert!(s.ep(0).call_is_live(ab) && s.ep(0).call_is_live(ac));
    assert!(
        ends(ec, ca.unwrap()).is_empty(),
        "the consultation stays up at C"
    );
}
