//! Blind transfer among three simulated endpoints (RFC 5589 §6; RFC 3515, 4488, 6665, 3892):
//! A (transferor) 10.0.0.1, B (transferee) 10.0.0.2, C (target) 10.0.0.3.

use bytes::Bytes;
use sipxfer::msg::{Message, Uri};
use sipxfer::{
    BlindOptions, CallId, CallState, EndReason, Event, Instant, SdpKind, Transfer, TransferOutcome,
};
use sipxfer_tests::flows::parse;
use sipxfer_tests::sim::{Link, Sim};

const SDP_A: &[u8] = b"v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
const SDP_B: &[u8] = b"v=0\r\no=b 2 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";
const SDP_C: &[u8] = b"v=0\r\no=c 3 1 IN IP4 10.0.0.3\r\ns=-\r\nc=IN IP4 10.0.0.3\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";

type Events = Vec<(Instant, Event)>;

/// What C does with the transferred call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Target {
    Answers,
    Busy,
    /// Rings, and answers this many seconds after the start.
    AnswersAt(u64),
    /// Rings and never answers.
    Rings,
    /// Cannot be reached: B's runtime reports it as soon as B's INVITE goes out (a refused
    /// TCP connection, an ICMP error). Pair with a sink at C.
    Unreachable,
}

/// What B does with the REFER.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Transferee {
    Accepts,
    Rejects(u16),
    /// Accepts, then abandons the call to the target once it rings (`cancel_call`).
    AcceptsThenCancels,
    /// Accepts, then hangs up the call to the target once it rings (`hangup`).
    AcceptsThenHangsUp,
}

struct Run {
    sim: Sim,
    events: [Events; 3],
    /// A's call with B.
    ab: CallId,
    /// B's call with C, when B placed it.
    bc: Option<CallId>,
}

fn three(seed: u64, loss: f64) -> Sim {
    let mut sim = Sim::new(seed);
    if loss > 0.0 {
        sim.set_default_link(Link::lossy(loss));
    }
    sim.add_endpoint("10.0.0.1:5060");
    sim.add_endpoint("10.0.0.2:5060");
    sim.add_endpoint("10.0.0.3:5060");
    sim
}

/// What A does when the first progress (100 Trying) arrives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum OnTrying {
    Wait,
    HangUp,
    CancelTransfer,
}

/// A calls B; once up, A transfers B to C blind; B and C behave as told.
fn blind(sim: Sim, options: BlindOptions, b: Transferee, c: Target) -> Run {
    blind_with(sim, options, b, c, OnTrying::Wait)
}

fn blind_with(
    mut sim: Sim,
    options: BlindOptions,
    b: Transferee,
    c: Target,
    on_trying: OnTrying,
) -> Run {
    let offer = sipxfer::CallOptions {
        offer: Some(Bytes::from_static(SDP_A)),
        ..Default::default()
    };
    let ab = sim
        .ep(0)
        .call(
            Instant::ZERO,
            Uri::parse("sip:bob@10.0.0.2").unwrap(),
            offer,
        )
        .unwrap();
    let mut events: [Events; 3] = Default::default();
    let mut transferred = false;
    let mut bc = None;
    let c_call = std::cell::Cell::new(None);
    let mut app = |ep: &mut sipxfer::Endpoint, n: usize, now: Instant, e: Event| {
        match (&e, n) {
            (Event::IncomingCall { call, .. }, 1) => {
                ep.answer(now, *call, Some(Bytes::from_static(SDP_B)))
                    .unwrap();
            }
            (Event::IncomingCall { call, .. }, 2) => match c {
                Target::Answers => {
                    ep.ring(now, *call, 180).unwrap();
                    ep.answer(now, *call, Some(Bytes::from_static(SDP_C)))
                        .unwrap();
                }
                Target::Busy => ep.reject(now, *call, 486).unwrap(),
                Target::Unreachable => unreachable!("C is a sink"),
                Target::AnswersAt(_) | Target::Rings => {
                    ep.ring(now, *call, 180).unwrap();
                    c_call.set(Some(*call));
                }
            },
            (
                Event::CallState {
                    state: CallState::Ringing,
                    call,
                    ..
                },
                1,
            ) if Some(*call) == bc => match b {
                Transferee::AcceptsThenCancels => ep.cancel_call(now, *call).unwrap(),
                Transferee::AcceptsThenHangsUp => ep.hangup(now, *call).unwrap(),
                _ => {}
            },
            (
                Event::CallState {
                    state: CallState::Confirmed,
                    call,
                    ..
                },
                0,
            ) if *call == ab && !transferred => {
                transferred = true;
                let target = Uri::parse("sip:carol@10.0.0.3").unwrap();
                ep.transfer(
                    now,
                    ab,
                    Transfer::Blind {
                        target,
                        options: options.clone(),
                    },
                )
                .unwrap();
            }
            (
                Event::TransferProgress {
                    transfer,
                    status: 100,
                    ..
                },
                0,
            ) => match on_trying {
                OnTrying::Wait => {}
                OnTrying::HangUp => ep.hangup(now, ab).unwrap(),
                OnTrying::CancelTransfer => ep.cancel_transfer(now, *transfer).unwrap(),
            },
            (Event::IncomingTransfer { transfer, .. }, 1) => match b {
                Transferee::Rejects(code) => ep.reject_transfer(now, *transfer, code).unwrap(),
                _ => {
                    bc = Some(ep.accept_transfer(now, *transfer, None).unwrap());
                    if c == Target::Unreachable {
                        let carol = "10.0.0.3:5060".parse().unwrap();
                        ep.handle_unreachable(now, sipxfer::Transport::Udp, carol);
                    }
                }
            },
            _ => {}
        }
        events[n].push((now, e));
    };
    if let Target::AnswersAt(secs) = c {
        sim.run(Instant::from_secs(secs), &mut app);
        let (call, now) = (c_call.get().expect("C got the call"), sim.now);
        sim.ep(2)
            .answer(now, call, Some(Bytes::from_static(SDP_C)))
            .unwrap();
    }
    sim.run_to_end(&mut app);
    Run {
        sim,
        events,
        ab,
        bc,
    }
}

/// A calls B without SDP; B answers. Returns A's and B's call.
fn a_calls_b(sim: &mut Sim) -> (CallId, CallId) {
    let ab = sim
        .ep(0)
        .call(
            Instant::ZERO,
            Uri::parse("sip:bob@10.0.0.2").unwrap(),
            Default::default(),
        )
        .unwrap();
    let mut b_call = None;
    sim.run_to_end(|ep, _, now, e| {
        if let Event::IncomingCall { call, .. } = e {
            ep.answer(now, call, None).unwrap();
            b_call = Some(call);
        }
    });
    (ab, b_call.expect("B got the call"))
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

fn progress(events: &Events) -> Vec<u16> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::TransferProgress { status, .. } => Some(*status),
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

/// The transfer failed with `code` on both sides (transferor `ea`, transferee `eb`) and the
/// transferor took the original call `ab` back.
fn failed_and_resumed(ea: &Events, eb: &Events, ab: CallId, code: u16, ctx: &str) {
    assert_eq!(outcomes(ea), [TransferOutcome::Failed(code)], "{ctx}");
    assert_eq!(outcomes(eb), [TransferOutcome::Failed(code)], "{ctx}");
    assert_eq!(last_state(ea, ab), Some(CallState::Resumed), "{ctx}");
}

fn name(sim: &Sim, a: std::net::SocketAddr) -> &'static str {
    ["A", "B", "C"][sim.nodes.iter().position(|n| n.addr == a).unwrap()]
}

/// Hangs up what is still up and runs until every endpoint is empty.
fn settle(run: &mut Run, ctx: &str) {
    if let Some(bc) = run.bc {
        let now = run.sim.now;
        if run.sim.ep(1).call_is_live(bc) {
            run.sim.ep(1).hangup(now, bc).unwrap();
        }
    }
    let now = run.sim.now;
    if run.sim.ep(0).call_is_live(run.ab) {
        run.sim.ep(0).hangup(now, run.ab).unwrap();
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

#[test]
fn rfc5589_blind_transfer_on_the_wire() {
    let mut run = blind(
        three(1, 0.0),
        BlindOptions::default(),
        Transferee::Accepts,
        Target::Answers,
    );
    let sim = &run.sim;
    let lines: Vec<String> = sim
        .log
        .iter()
        .map(|l| {
            let m = parse(&l.bytes);
            let extra = if m.content_type().is_some_and(|t| t.is("message", "sipfrag")) {
                format!(" [{}]", String::from_utf8_lossy(&m.body).trim_end())
            } else {
                String::new()
            };
            let cseq = m.cseq().unwrap();
            format!(
                "{}->{} {} ({} {}){extra}",
                name(sim, l.from),
                name(sim, l.to),
                l.first_line(),
                cseq.seq,
                cseq.method.as_str()
            )
        })
        .collect();
    let text = lines.join("\n");
    eprintln!("{text}");
    let notify_seq: Vec<&String> = lines.iter().filter(|l| l.contains("NOTIFY sip")).collect();
    assert_eq!(notify_seq.len(), 3, "{text}");
    assert!(notify_seq[0].ends_with("[SIP/2.0 100 Trying]"), "{text}");
    assert!(notify_seq[1].ends_with("[SIP/2.0 180 Ringing]"), "{text}");
    assert!(notify_seq[2].ends_with("[SIP/2.0 200 OK]"), "{text}");
    // The order of the RFC 5589 §6 flow, message by message on each link.
    let order = [
        "A->B INVITE sip:bob@10.0.0.2 SIP/2.0 (1 INVITE)",
        "B->A SIP/2.0 200 OK (1 INVITE)",
        "A->B ACK",
        "A->B INVITE sip:10.0.0.2:5060 SIP/2.0 (2 INVITE)",
        "B->A SIP/2.0 200 OK (2 INVITE)",
        "A->B ACK sip:10.0.0.2:5060 SIP/2.0 (2 ACK)",
        "A->B REFER sip:10.0.0.2:5060 SIP/2.0 (3 REFER)",
        "B->A SIP/2.0 202 Accepted (3 REFER)",
        "B->A NOTIFY",
        "B->C INVITE sip:carol@10.0.0.3 SIP/2.0 (1 INVITE)",
        "C->B SIP/2.0 180 Ringing",
        "C->B SIP/2.0 200 OK (1 INVITE)",
        "B->C ACK",
        "A->B BYE sip:10.0.0.2:5060 SIP/2.0 (4 BYE)",
        "B->A SIP/2.0 200 OK (4 BYE)",
    ];
    let mut at = 0;
    for want in order {
        let found = lines[at..].iter().position(|l| l.starts_with(want));
        let Some(i) = found else {
            panic!("`{want}` not found after line {at}:\n{text}")
        };
        at += i + 1;
    }
    // Headers of the REFER, the NOTIFYs and the new INVITE.
    let msgs: Vec<_> = sim.log.iter().map(|l| parse(&l.bytes)).collect();
    let find = |start: &str| {
        sim.log
            .iter()
            .zip(&msgs)
            .filter(|(l, _)| l.first_line().starts_with(start))
            .map(|(_, m)| m)
            .collect::<Vec<_>>()
    };
    let refer = find("REFER ")[0];
    let tos: Vec<_> = refer.refer_tos().collect();
    assert_eq!(tos.len(), 1);
    assert_eq!(
        sipxfer::msg::emit::uri_to_string(&tos[0].uri),
        "sip:carol@10.0.0.3"
    );
    let referred_by = refer.referred_by().unwrap();
    assert_eq!(
        sipxfer::msg::emit::uri_to_string(&referred_by.uri),
        "sip:10.0.0.1:5060"
    );
    assert!(refer.refer_sub().is_none());
    let notifies = find("NOTIFY ");
    for (i, n) in notifies.iter().enumerate() {
        let ev = n.event().unwrap();
        assert_eq!((ev.package.as_str(), ev.id()), ("refer", None));
        assert!(n.content_type().unwrap().is("message", "sipfrag"));
        let st = n.subscription_state().unwrap();
        if i < 2 {
            assert_eq!(st.state.as_str(), "active");
            // Config::refer_expires, 600 by default.
            assert_eq!(st.params.get("expires"), Some(Some("600")));
        } else {
            assert_eq!(st.state.as_str(), "terminated");
            assert_eq!(st.params.get("reason"), Some(Some("noresource")));
        }
        assert_eq!(n.call_id(), refer.call_id());
    }
    let invite_c = find("INVITE sip:carol")[0];
    assert_eq!(invite_c.referred_by(), Some(referred_by));
    assert_ne!(invite_c.call_id(), refer.call_id());
    // B calls C as who it is in the transferred dialog (the To of A's INVITE), new tag.
    let invite_b = find("INVITE sip:bob@10.0.0.2")[0];
    assert_eq!(invite_c.from().unwrap().uri, invite_b.to().unwrap().uri);
    assert_ne!(invite_c.from().unwrap().tag(), refer.to().unwrap().tag());
    // The hold before the REFER: sendonly.
    let hold = find("INVITE sip:10.0.0.2:5060")[0];
    assert_eq!(
        sipxfer::sdp::direction(&hold.body),
        sipxfer::sdp::Direction::SendOnly
    );
    // Events at each party.
    let [ea, eb, ec] = &run.events;
    assert_eq!(progress(ea), [100, 180, 200]);
    assert_eq!(outcomes(ea), [TransferOutcome::Succeeded]);
    assert_eq!(
        last_state(ea, run.ab),
        Some(CallState::Terminated {
            reason: EndReason::LocalHangup
        })
    );
    assert!(eb.iter().any(|(_, e)| matches!(
        e,
        Event::IncomingTransfer {
            refer_sub: true,
            replaces: None,
            ..
        }
    )));
    assert_eq!(outcomes(eb), [TransferOutcome::Succeeded]);
    let bc = run.bc.unwrap();
    assert_eq!(last_state(eb, bc), Some(CallState::Confirmed));
    assert!(ec.iter().any(|(_, e)| matches!(e, Event::IncomingCall { referred_by: Some(r), .. } if sipxfer::msg::emit::uri_to_string(&r.uri) == "sip:10.0.0.1:5060")));
    // The media each party learns (`Event::RemoteSdp`): B, C's answer on its new call (the
    // body of C's 2xx, as sent); A, B's answer to the call and to the hold; B, A's hold.
    let sdps = |events: &Events, call: Option<CallId>| -> Vec<(SdpKind, Option<u16>, Bytes)> {
        events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::RemoteSdp {
                    call: c,
                    kind,
                    status,
                    sdp,
                } if call.is_none_or(|call| call == *c) => Some((*kind, *status, sdp.clone())),
                _ => None,
            })
            .collect()
    };
    let directions =
        |v: Vec<(SdpKind, Option<u16>, Bytes)>| -> Vec<(SdpKind, Option<u16>, String)> {
            v.into_iter()
                .map(|(k, s, b)| (k, s, format!("{:?}", sipxfer::sdp::direction(&b))))
                .collect()
        };
    assert_eq!(
        sdps(eb, Some(bc)),
        [(SdpKind::Answer, Some(200), Bytes::from_static(SDP_C))]
    );
    assert_eq!(
        directions(sdps(ea, Some(run.ab))),
        [
            (SdpKind::Answer, Some(200), "SendRecv".into()),
            (SdpKind::Answer, Some(200), "RecvOnly".into())
        ]
    );
    assert_eq!(
        directions(sdps(eb, None))[0],
        (SdpKind::Offer, None, "SendOnly".into())
    );
    settle(&mut run, "wire");
}

#[test]
fn blind_transfer_under_loss_same_outcome_everywhere() {
    let (mut runs, mut no_ack) = (0, 0);
    for loss in [0.1, 0.3] {
        for seed in 0..1000 {
            let mut run = blind(
                three(seed, loss),
                BlindOptions::default(),
                Transferee::Accepts,
                Target::Answers,
            );
            runs += 1;
            let ctx = format!("loss {loss} seed {seed}");
            let [ea, eb, ec] = &run.events;
            assert_eq!(outcomes(ea), [TransferOutcome::Succeeded], "{ctx}");
            assert_eq!(outcomes(eb), [TransferOutcome::Succeeded], "{ctx}");
            assert!(
                matches!(last_state(ea, run.ab), Some(CallState::Terminated { .. })),
                "{ctx}"
            );
            let bc = run.bc.expect("B called C");
            let c_states: Vec<CallState> = ec
                .iter()
                .filter_map(|(_, e)| match e {
                    Event::CallState { state, .. } => Some(*state),
                    _ => None,
                })
                .collect();
            if c_states.contains(&CallState::Confirmed) {
                assert_eq!(last_state(eb, bc), Some(CallState::Confirmed), "{ctx}");
            } else {
                // Every copy of the ACK lost for 64·T1 (§13.3.1.4): C gives up on the new
                // call and BYEs it, after the transfer itself succeeded. Rare; counted.
                assert_eq!(
                    c_states.last(),
                    Some(&CallState::Terminated {
                        reason: EndReason::NoAck
                    }),
                    "{ctx}"
                );
                no_ack += 1;
            }
            settle(&mut run, &ctx);
        }
    }
    assert_eq!(runs, 2000);
    assert!(no_ack <= 5, "{no_ack} calls lost every ACK");
}

#[test]
fn target_busy_fails_and_a_resumes() {
    let mut run = blind(
        three(2, 0.0),
        BlindOptions::default(),
        Transferee::Accepts,
        Target::Busy,
    );
    let [ea, eb, _] = &run.events;
    assert_eq!(progress(ea), [100, 486]);
    failed_and_resumed(ea, eb, run.ab, 486, "");
    let resume = run
        .sim
        .log
        .iter()
        .filter(|l| l.first_line() == "INVITE sip:10.0.0.2:5060 SIP/2.0")
        .map(|l| parse(&l.bytes))
        .last()
        .unwrap();
    assert_eq!(
        sipxfer::sdp::direction(&resume.body),
        sipxfer::sdp::Direction::SendRecv
    );
    settle(&mut run, "busy");
}

#[test]
fn refer_rejected_603_keeps_the_call() {
    let mut run = blind(
        three(3, 0.0),
        BlindOptions::default(),
        Transferee::Rejects(603),
        Target::Answers,
    );
    let [ea, _, ec] = &run.events;
    assert_eq!(outcomes(ea), [TransferOutcome::Rejected(603)]);
    assert!(progress(ea).is_empty());
    assert_eq!(last_state(ea, run.ab), Some(CallState::Resumed));
    assert!(ec.is_empty(), "C never called");
    settle(&mut run, "603");
}

#[test]
fn refer_sub_false_when_the_transferee_supports_norefersub() {
    let mut sim = Sim::new(4);
    sim.add_endpoint("10.0.0.1:5060");
    let mut cfg = sipxfer::Config::new("10.0.0.2:5060".parse().unwrap(), [2; 32]);
    cfg.supported.push("norefersub".into());
    sim.add_endpoint_with(cfg);
    sim.add_endpoint("10.0.0.3:5060");
    let options = BlindOptions {
        no_subscription: true,
        hold: false,
        ..Default::default()
    };
    let mut run = blind(sim, options, Transferee::Accepts, Target::Answers);
    let refer = run
        .sim
        .log
        .iter()
        .find(|l| l.first_line().starts_with("REFER"))
        .map(|l| parse(&l.bytes))
        .unwrap();
    assert_eq!(refer.refer_sub().map(|r| r.value), Some(false));
    let accepted = run
        .sim
        .log
        .iter()
        .find(|l| l.first_line() == "SIP/2.0 202 Accepted")
        .map(|l| parse(&l.bytes))
        .unwrap();
    assert_eq!(accepted.refer_sub().map(|r| r.value), Some(false));
    assert!(!run
        .sim
        .log
        .iter()
        .any(|l| l.first_line().starts_with("NOTIFY")));
    assert!(!run
        .sim
        .log
        .iter()
        .any(|l| l.first_line().starts_with("INVITE sip:10.0.0.2:5060")));
    let [ea, eb, _] = &run.events;
    assert_eq!(outcomes(ea), [TransferOutcome::AcceptedWithoutReport]);
    assert_eq!(outcomes(eb), [TransferOutcome::Succeeded]);
    settle(&mut run, "norefersub");
}

#[test]
fn bad_refers_and_notifies_get_the_rfc_answer() {
    use sipxfer::msg::{Header, Method};
    // A call between A and B, then hand-made requests in its dialog from A.
    let mut sim = three(5, 0.0);
    let (ab, b_call) = a_calls_b(&mut sim);
    type Mutate = Box<dyn Fn(&mut sipxfer::Message)>;
    let cases: Vec<(&str, Mutate, u16)> = vec![
        ("REFER without Refer-To", Box::new(|_| {}), 400),
        (
            "REFER with two Refer-To",
            Box::new(|m| {
                let to = sipxfer::msg::NameAddr::new(Uri::parse("sip:c@10.0.0.3").unwrap());
                m.headers.push(Header::ReferTo(to.clone()));
                m.headers.push(Header::ReferTo(to));
            }),
            400,
        ),
        (
            "REFER to a tel: URI",
            Box::new(|m| {
                let to = sipxfer::msg::NameAddr::new(Uri::parse("tel:+15551234").unwrap());
                m.headers.push(Header::ReferTo(to));
            }),
            416,
        ),
        (
            "REFER whose Refer-To carries a Replaces that does not parse (no Call-ID)",
            Box::new(|m| {
                let to = sipxfer::msg::NameAddr::new(bad_replaces_target());
                m.headers.push(Header::ReferTo(to));
            }),
            400,
        ),
    ];
    for (i, (what, f, code)) in cases.into_iter().enumerate() {
        let now = sim.now;
        let mut d = sim.ep(0).dialog(ab).unwrap().clone();
        let mut req = d.request(Method::Refer, Some(d.local_seq + 100 + i as u32), None);
        f(&mut req);
        let dest = d.destination();
        let tx = sim.ep(0).send_request(now, dest, req).unwrap();
        let mut got = None;
        sim.run_to_end(|_, n, _, e| {
            if let (0, Event::Response { tx: t, response }) = (n, e) {
                if t == tx {
                    got = response.status();
                }
            }
        });
        assert_eq!(got, Some(code), "{what}");
    }
    // NOTIFYs A never subscribed to: 481; without Event or Subscription-State: 400 (bad
    // NOTIFYs for a live subscription: tests/transfer_scripted.rs).
    let notify = move |sim: &mut Sim, seq: u32, event: bool, state: bool, body: &'static [u8]| {
        let now = sim.now;
        let mut d = sim.ep(1).dialog(b_call).cloned().unwrap();
        let mut req = d.request(Method::Notify, Some(seq), None);
        if event {
            req.headers.push(Header::Event(sipxfer::msg::Event {
                package: "refer".into(),
                params: Default::default(),
            }));
        }
        if state {
            req.headers
                .push(Header::SubscriptionState(sipxfer::msg::SubscriptionState {
                    state: "active".into(),
                    params: Default::default(),
                }));
        }
        req.headers
            .push(Header::ContentType(sipxfer::msg::MediaType {
                ty: "message".into(),
                subtype: "sipfrag".into(),
                params: Default::default(),
            }));
        req.body = Bytes::from_static(body);
        let dest = d.destination();
        let tx = sim.ep(1).send_request(now, dest, req).unwrap();
        let mut got = None;
        sim.run_to_end(|_, n, _, e| {
            if let (1, Event::Response { tx: t, response }) = (n, e) {
                if t == tx {
                    got = response.status();
                }
            }
        });
        got
    };
    let base = 1000;
    assert_eq!(
        notify(&mut sim, base, true, true, b"SIP/2.0 100 Trying\r\n"),
        Some(481)
    );
    assert_eq!(
        notify(&mut sim, base + 1, false, true, b"SIP/2.0 100 Trying\r\n"),
        Some(400)
    );
    assert_eq!(
        notify(&mut sim, base + 2, true, false, b"SIP/2.0 100 Trying\r\n"),
        Some(400)
    );
    // The call survived all of it.
    assert!(sim.ep(0).call_is_live(ab));
}

/// A hangs up as soon as B reports Trying (RFC 5589 §6.1: the transferor may end its call once
/// the REFER is accepted). The BYE ends the invite usage only (RFC 5057 §5.1): the refer
/// subscription keeps the dialog, B goes on notifying A — every NOTIFY after the BYE is
/// answered 200 — and A learns the outcome; B's call to C is up.
#[test]
fn a_hangs_up_mid_transfer_the_subscription_lives_on() {
    let mut run = blind_with(
        three(6, 0.0),
        BlindOptions::default(),
        Transferee::Accepts,
        Target::Answers,
        OnTrying::HangUp,
    );
    let [ea, eb, _] = &run.events;
    assert_eq!(outcomes(ea), [TransferOutcome::Succeeded]);
    assert_eq!(
        last_state(eb, first_call(eb)),
        Some(CallState::Terminated {
            reason: EndReason::RemoteHangup
        })
    );
    let bye_at = run
        .sim
        .log
        .iter()
        .position(|l| l.first_line().starts_with("BYE"))
        .unwrap();
    let after: Vec<Message> = run.sim.log[bye_at..]
        .iter()
        .map(|l| parse(&l.bytes))
        .filter(|m| m.cseq().unwrap().method.as_str() == "NOTIFY")
        .collect();
    let (notifies, answers): (Vec<&Message>, Vec<&Message>) =
        after.iter().partition(|m| m.is_request());
    assert!(
        notifies.iter().any(|m| m.body.starts_with(b"SIP/2.0 200")),
        "the final NOTIFY came after the BYE"
    );
    assert!(answers.iter().all(|m| m.status() == Some(200)));
    assert_eq!(last_state(eb, run.bc.unwrap()), Some(CallState::Confirmed));
    settle(&mut run, "hangup");
}

fn first_call(events: &Events) -> CallId {
    events
        .iter()
        .find_map(|(_, e)| match e {
            Event::IncomingCall { call, .. } => Some(*call),
            _ => None,
        })
        .unwrap()
}

#[test]
fn unsubscribe_mid_transfer_leaves_the_call_alone() {
    let mut run = blind_with(
        three(7, 0.0),
        BlindOptions::default(),
        Transferee::Accepts,
        Target::Answers,
        OnTrying::CancelTransfer,
    );
    let [ea, _, _] = &run.events;
    assert_eq!(outcomes(ea), [TransferOutcome::Cancelled]);
    let sub = run
        .sim
        .log
        .iter()
        .find(|l| l.first_line().starts_with("SUBSCRIBE"))
        .map(|l| parse(&l.bytes))
        .expect("an unsubscribe");
    assert_eq!(sub.expires(), Some(0));
    assert_eq!(sub.event().unwrap().package.as_str(), "refer");
    assert_eq!(sub.event().unwrap().id(), Some("3"), "the REFER's CSeq");
    // The final NOTIFY that answers the unsubscribe is still accepted (RFC 6665 §4.1.2.3).
    let notify_answers: Vec<u16> = run
        .sim
        .log
        .iter()
        .map(|l| parse(&l.bytes))
        .filter(|m| m.cseq().unwrap().method.as_str() == "NOTIFY")
        .filter_map(|m| m.status())
        .collect();
    assert!(!notify_answers.is_empty());
    assert!(
        notify_answers.iter().all(|&c| c == 200),
        "{notify_answers:?}"
    );
    // A–B is as it was (held, not ended by the transfer), and no BYE crossed it.
    assert_eq!(last_state(ea, run.ab), Some(CallState::Held));
    assert!(run.sim.ep(0).call_is_live(run.ab));
    settle(&mut run, "unsubscribe");
}

#[test]
fn unreachable_target_fails_the_transfer_with_503_at_once() {
    // B's INVITE to C cannot be delivered: RFC 3261 §8.1.3.1 makes it a 503 at B, which B
    // reports in its final NOTIFY (RFC 3515 §2.4.5) right away, not 32 s later as a 408.
    let mut sim = three(10, 0.0);
    sim.nodes[2].sink = true;
    let mut run = blind(
        sim,
        BlindOptions::default(),
        Transferee::Accepts,
        Target::Unreachable,
    );
    let [ea, eb, _] = &run.events;
    assert_eq!(progress(ea), [100, 503]);
    failed_and_resumed(ea, eb, run.ab, 503, "");
    let failed_at = ea
        .iter()
        .find(|(_, e)| matches!(e, Event::TransferOutcome { .. }))
        .map(|(t, _)| t.as_micros())
        .unwrap();
    assert!(failed_at < 1_000_000, "failed at {failed_at} µs");
    // On the wire: B sent C one INVITE and no retransmission, then the final NOTIFY to A.
    let invites = run
        .sim
        .sent_by(1)
        .iter()
        .filter(|l| l.first_line().starts_with("INVITE sip:carol@"))
        .count();
    assert_eq!(invites, 1);
    let notify = run
        .sim
        .sent_by(1)
        .into_iter()
        .filter(|l| l.first_line().starts_with("NOTIFY "))
        .last()
        .map(|l| String::from_utf8_lossy(&l.bytes).into_owned())
        .unwrap();
    assert!(
        notify.contains("Subscription-State: terminated;reason=noresource")
            && notify.ends_with("SIP/2.0 503 Service Unavailable\r\n"),
        "{notify}"
    );
    settle(&mut run, "unreachable");
}

#[test]
fn target_never_answers_and_a_silent_transferee_time_out() {
    // C never answers: B's INVITE times out (Timer B, 32 s): final NOTIFY 408; A resumes.
    let mut sim = three(8, 0.0);
    sim.nodes[2].sink = true;
    let mut run = blind(
        sim,
        BlindOptions::default(),
        Transferee::Accepts,
        Target::Answers,
    );
    let [ea, eb, _] = &run.events;
    assert_eq!(progress(ea), [100, 408]);
    failed_and_resumed(ea, eb, run.ab, 408, "");
    settle(&mut run, "no answer");

    // A gives the transfer 10 s; B only sends the 100 within that time: A times out,
    // resumes, keeps the call; the late final NOTIFY is answered and ignored.
    let mut sim = Sim::new(9);
    let mut cfg = sipxfer::Config::new("10.0.0.1:5060".parse().unwrap(), [1; 32]);
    cfg.transfer_timeout = std::time::Duration::from_secs(10);
    sim.add_endpoint_with(cfg);
    sim.add_endpoint("10.0.0.2:5060");
    sim.add_endpoint("10.0.0.3:5060");
    sim.nodes[2].sink = true;
    let mut run = blind(
        sim,
        BlindOptions::default(),
        Transferee::Accepts,
        Target::Answers,
    );
    let [ea, _, _] = &run.events;
    assert_eq!(progress(ea), [100]);
    assert_eq!(outcomes(ea), [TransferOutcome::TimedOut]);
    assert!(run.sim.ep(0).call_is_live(run.ab));
    assert_eq!(last_state(ea, run.ab), Some(CallState::Resumed));
    settle(&mut run, "timeout");
}

#[test]
fn refer_to_uri_headers_other_than_replaces_are_never_copied() {
    let mut sim = three(10, 0.0);
    let (ab, _) = a_calls_b(&mut sim);
    let target =
        Uri::parse("sip:carol@10.0.0.3?Route=%3Csip:evil%4010.9.9.9%3E&Call-ID=stolen&Subject=hi")
            .unwrap();
    let options = BlindOptions {
        hold: false,
        ..Default::default()
    };
    let now = sim.now;
    sim.ep(0)
        .transfer(now, ab, Transfer::Blind { target, options })
        .unwrap();
    sim.run_to_end(|ep, n, now, e| match (e, n) {
        (Event::IncomingCall { call, .. }, 2) => ep.reject(now, call, 486).unwrap(),
        (Event::IncomingTransfer { transfer, .. }, 1) => {
            ep.accept_transfer(now, transfer, None).unwrap();
        }
        _ => {}
    });
    let refer = sim
        .log
        .iter()
        .find(|l| l.first_line().starts_with("REFER"))
        .map(|l| parse(&l.bytes))
        .unwrap();
    // The REFER carries the URI as given, in <> (it holds `?`).
    assert!(String::from_utf8_lossy(
        &sim.log
            .iter()
            .find(|l| l.first_line().starts_with("REFER"))
            .unwrap()
            .bytes
    )
    .contains("Refer-To: <sip:carol@10.0.0.3?"));
    assert_eq!(refer.refer_tos().count(), 1);
    let invite = sim
        .log
        .iter()
        .find(|l| l.first_line().starts_with("INVITE sip:carol"))
        .map(|l| parse(&l.bytes))
        .expect("B called C");
    assert_eq!(invite.first_line_uri(), "sip:carol@10.0.0.3");
    assert_eq!(invite.routes().count(), 0);
    assert_ne!(invite.call_id(), Some("stolen"));
    assert!(invite.raw_header("Subject").is_none());
}

trait UriLine {
    fn first_line_uri(&self) -> String;
}

impl UriLine for sipxfer::Message {
    fn first_line_uri(&self) -> String {
        sipxfer::msg::emit::uri_to_string(self.request_uri().unwrap())
    }
}

/// The NOTIFYs B sent: (Event, Subscription-State, sipfrag first line), in order, retransmissions
/// left out.
fn notifies(sim: &Sim) -> Vec<(String, String, String)> {
    let mut seen = std::collections::BTreeSet::new();
    sim.log
        .iter()
        .filter(|l| l.first_line().starts_with("NOTIFY"))
        .map(|l| parse(&l.bytes))
        .filter(|m| seen.insert(m.cseq().unwrap().seq))
        .map(|m| {
            let text = String::from_utf8_lossy(&m.to_bytes()).to_string();
            let header = |n: &str| {
                text.split("\r\n")
                    .find_map(|h| h.strip_prefix(n))
                    .unwrap_or("")
                    .to_string()
            };
            let frag = String::from_utf8_lossy(&m.body);
            (
                header("Event: "),
                header("Subscription-State: "),
                frag.split("\r\n").next().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn transferee_abandons_the_transfer_call_final_notify_487() {
    for (seed, b) in [
        (21, Transferee::AcceptsThenCancels),
        (22, Transferee::AcceptsThenHangsUp),
    ] {
        let mut run = blind(three(seed, 0.0), BlindOptions::default(), b, Target::Rings);
        let ctx = format!("{b:?}");
        // B CANCELs its INVITE to C; C answers it 487 (RFC 3261 §9.2).
        let c_got: Vec<String> = run
            .sim
            .log
            .iter()
            .filter(|l| name(&run.sim, l.from) == "C")
            .map(|l| l.first_line().to_string())
            .collect();
        assert!(
            c_got.contains(&"SIP/2.0 487 Request Terminated".into()),
            "{ctx} {c_got:?}"
        );
        assert!(run
            .sim
            .log
            .iter()
            .any(|l| name(&run.sim, l.to) == "C" && l.first_line().starts_with("CANCEL")));
        // The final NOTIFY carries the 487 and ends the subscription.
        let n = notifies(&run.sim);
        assert_eq!(
            n.iter().map(|x| x.2.as_str()).collect::<Vec<_>>(),
            [
                "SIP/2.0 100 Trying",
                "SIP/2.0 180 Ringing",
                "SIP/2.0 487 Request Terminated"
            ],
            "{ctx}"
        );
        assert_eq!(n[2].1, "terminated;reason=noresource", "{ctx}");
        let [ea, eb, _] = &run.events;
        assert_eq!(progress(ea), [100, 180, 487], "{ctx}");
        // The original call survives, taken back by A.
        failed_and_resumed(ea, eb, run.ab, 487, &ctx);
        assert!(run.sim.ep(0).call_is_live(run.ab), "{ctx}");
        settle(&mut run, &ctx);
    }
}

#[test]
fn slow_target_the_transferor_refreshes_the_subscription() {
    // C rings for 100 s; the subscription lasts 60 s (B grants that, not the default 600)
    // unless refreshed. A refreshes it halfway each time (RFC 6665 §4.1.2.2); B answers 200
    // and NOTIFYs the current state (§4.2.2).
    let mut sim = Sim::new(23);
    for addr in ["10.0.0.1:5060", "10.0.0.2:5060", "10.0.0.3:5060"] {
        sim.add_endpoint_tuned(addr, |c| c.refer_expires = 60);
    }
    let mut run = blind(
        sim,
        BlindOptions::default(),
        Transferee::Accepts,
        Target::AnswersAt(100),
    );
    let sim = &run.sim;
    let subscribes: Vec<(f64, sipxfer::Message)> = sim
        .log
        .iter()
        .filter(|l| l.first_line().starts_with("SUBSCRIBE"))
        .map(|l| (l.secs(), parse(&l.bytes)))
        .collect();
    let times: Vec<u64> = subscribes.iter().map(|(t, _)| *t as u64).collect();
    assert_eq!(times, [30, 60, 90], "refresh halfway through each 60 s");
    for (_, m) in &subscribes {
        let text = String::from_utf8_lossy(&m.to_bytes()).to_string();
        assert!(text.contains("\r\nEvent: refer;id=3\r\n"), "{text}");
        assert!(text.contains("\r\nExpires: 60\r\n"), "{text}");
    }
    let oks: Vec<String> = sim
        .log
        .iter()
        .filter(|l| l.first_line() == "SIP/2.0 200 OK")
        .map(|l| String::from_utf8_lossy(&l.bytes).to_string())
        .filter(|t| t.contains(" SUBSCRIBE\r\n"))
        .collect();
    assert_eq!(oks.len(), 3);
    assert!(oks.iter().all(|t| t.contains("\r\nExpires: 60\r\n")));
    // Each refresh is followed by a NOTIFY of the current state (180), still active.
    let n = notifies(sim);
    let frags: Vec<&str> = n.iter().map(|x| x.2.as_str()).collect();
    assert_eq!(
        frags,
        [
            "SIP/2.0 100 Trying",
            "SIP/2.0 180 Ringing",
            "SIP/2.0 180 Ringing",
            "SIP/2.0 180 Ringing",
            "SIP/2.0 180 Ringing",
            "SIP/2.0 200 OK"
        ]
    );
    assert!(n[..5].iter().all(|x| x.1 == "active;expires=60"), "{n:?}");
    assert_eq!(n[5].1, "terminated;reason=noresource");
    // A reports each state once, and the success at 100 s.
    let [ea, eb, _] = &run.events;
    assert_eq!(progress(ea), [100, 180, 200]);
    assert_eq!(outcomes(ea), [TransferOutcome::Succeeded]);
    assert_eq!(outcomes(eb), [TransferOutcome::Succeeded]);
    assert!(matches!(
        last_state(ea, run.ab),
        Some(CallState::Terminated { .. })
    ));
    settle(&mut run, "refresh");
}

#[test]
fn two_refers_in_one_dialog_are_told_apart_by_id() {
    // A sends two REFERs in the same dialog at once: carol (busy) and dave (answers). The
    // first REFER's NOTIFYs may leave `id` out; the second's carry `id=<its CSeq>` (RFC 3515
    // §2.4.6). Each transfer gets its own outcome; B ends the call after the success.
    let mut sim = three(24, 0.0);
    let (ab, _) = a_calls_b(&mut sim);
    let options = BlindOptions {
        hold: false,
        bye: sipxfer::ByeBy::Transferee,
        ..Default::default()
    };
    let now = sim.now;
    let mut ids = Vec::new();
    for who in ["carol", "dave"] {
        let target = Uri::parse(&format!("sip:{who}@10.0.0.3")).unwrap();
        let options = options.clone();
        ids.push(
            sim.ep(0)
                .transfer(now, ab, Transfer::Blind { target, options })
                .unwrap(),
        );
    }
    let mut events: Events = Vec::new();
    let mut incoming = Vec::new();
    sim.run_to_end(|ep, n, now, e| {
        match (&e, n) {
            (Event::IncomingCall { call, request, .. }, 2) => {
                let user = match request.request_uri().unwrap() {
                    Uri::Sip(u) => u.user.to_string(),
                    _ => unreachable!(),
                };
                if user == "carol" {
                    ep.reject(now, *call, 486).unwrap();
                } else {
                    ep.ring(now, *call, 180).unwrap();
                    ep.answer(now, *call, None).unwrap();
                }
            }
            (Event::IncomingTransfer { transfer, .. }, 1) => {
                incoming.push(*transfer);
                ep.accept_transfer(now, *transfer, None).unwrap();
            }
            _ => {}
        }
        if n == 0 {
            events.push((now, e));
        }
    });
    assert_eq!(incoming.len(), 2);
    assert_ne!(incoming[0], incoming[1]);
    let refers: Vec<u32> = sim
        .log
        .iter()
        .filter(|l| l.first_line().starts_with("REFER"))
        .map(|l| parse(&l.bytes).cseq().unwrap().seq)
        .collect();
    assert_eq!(refers, [2, 3]);
    // Sort B's NOTIFYs by subscription.
    let n = notifies(&sim);
    let first: Vec<&str> = n
        .iter()
        .filter(|x| x.0 == "refer")
        .map(|x| x.2.as_str())
        .collect();
    let second: Vec<&str> = n
        .iter()
        .filter(|x| x.0 == "refer;id=3")
        .map(|x| x.2.as_str())
        .collect();
    assert_eq!(n.len(), first.len() + second.len(), "{n:?}");
    assert_eq!(first, ["SIP/2.0 100 Trying", "SIP/2.0 486 Busy Here"]);
    assert_eq!(
        second,
        [
            "SIP/2.0 100 Trying",
            "SIP/2.0 180 Ringing",
            "SIP/2.0 200 OK"
        ]
    );
    let per: Vec<(sipxfer::TransferId, TransferOutcome)> = events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::TransferOutcome { transfer, outcome } => Some((*transfer, *outcome)),
            _ => None,
        })
        .collect();
    assert_eq!(per.len(), 2);
    assert!(
        per.contains(&(ids[0], TransferOutcome::Failed(486))),
        "{per:?}"
    );
    assert!(
        per.contains(&(ids[1], TransferOutcome::Succeeded)),
        "{per:?}"
    );
    // B's BYE ended the original call after the grace period.
    let bye = sim
        .log
        .iter()
        .find(|l| l.first_line().starts_with("BYE"))
        .unwrap();
    assert_eq!(name(&sim, bye.from), "B");
    assert_eq!(
        last_state(&events, ab),
        Some(CallState::Terminated {
            reason: EndReason::RemoteHangup
        })
    );
    for n in 0..3 {
        let s = sim.ep(n).stats();
        assert_eq!(
            (s.transactions, s.timers, s.dialogs, s.subscriptions),
            (0, 0, n.min(1), 0),
            "node {n} {s:?}"
        );
    }
}

#[test]
fn auto_accepting_transferee_needs_no_application() {
    let mut sim = Sim::new(25);
    sim.add_endpoint("10.0.0.1:5060");
    let mut cfg = sipxfer::Config::new("10.0.0.2:5060".parse().unwrap(), [2; 32]);
    cfg.auto_accept_transfers = true;
    sim.add_endpoint_with(cfg);
    sim.add_endpoint("10.0.0.3:5060");
    let (ab, _) = a_calls_b(&mut sim);
    let options = BlindOptions {
        hold: false,
        ..Default::default()
    };
    let now = sim.now;
    let target = Uri::parse("sip:carol@10.0.0.3").unwrap();
    sim.ep(0)
        .transfer(now, ab, Transfer::Blind { target, options })
        .unwrap();
    let mut events: [Events; 3] = Default::default();
    sim.run_to_end(|ep, n, now, e| {
        if let (Event::IncomingCall { call, .. }, 2) = (&e, n) {
            ep.answer(now, *call, None).unwrap();
        }
        events[n].push((now, e));
    });
    // B told the application, and had already answered 202 and called C.
    assert!(events[1]
        .iter()
        .any(|(_, e)| matches!(e, Event::IncomingTransfer { .. })));
    assert!(sim
        .log
        .iter()
        .any(|l| l.first_line() == "SIP/2.0 202 Accepted"));
    assert_eq!(outcomes(&events[0]), [TransferOutcome::Succeeded]);
    assert_eq!(outcomes(&events[1]), [TransferOutcome::Succeeded]);
    assert_eq!(progress(&events[0]), [100, 200]);
    assert!(!sim.ep(0).call_is_live(ab));
}

/// A Refer-To URI whose embedded `Replaces` (RFC 3891 §5) has no Call-ID: it cannot parse.
fn bad_replaces_target() -> Uri<sipxfer::SipStr> {
    let uri = Uri::parse("sip:c@10.0.0.3?Replaces=%3Bto-tag%3D1%3Bfrom-tag%3D2").unwrap();
    let to = sipxfer::msg::NameAddr::new(uri.clone());
    assert!(
        to.embedded_replaces().is_err(),
        "the case needs a Replaces that fails"
    );
    uri
}

/// The REFER checks come in RFC order before the limit on transfers per dialog: with
/// `max_transfers_per_dialog` at 0, a REFER that cannot be acted on still gets its own answer
/// (400, 416), and only a good one the 503. And `Refer-Sub: false` (RFC 4488 §4) is honoured
/// only by a UA that supports `norefersub`: the transfer's `refer_sub` says whether the
/// subscription is kept.
#[test]
fn refer_checks_before_the_limit_and_refer_sub_only_with_norefersub() {
    use sipxfer::msg::{Header, Method, ReferSub};
    let send = |sim: &mut Sim,
                ab: CallId,
                seq: u32,
                to: Option<Uri<sipxfer::SipStr>>,
                refer_sub: Option<bool>| {
        let now = sim.now;
        let mut d = sim.ep(0).dialog(ab).unwrap().clone();
        let mut req = d.request(Method::Refer, Some(seq), None);
        if let Some(to) = to {
            req.headers
                .push(Header::ReferTo(sipxfer::msg::NameAddr::new(to)));
        }
        if let Some(value) = refer_sub {
            req.headers.push(Header::ReferSub(ReferSub {
                value,
                params: Default::default(),
            }));
        }
        let dest = d.destination();
        let tx = sim.ep(0).send_request(now, dest, req).unwrap();
        let (mut status, mut sub) = (None, None);
        sim.run_to_end(|ep, n, now, e| match (n, e) {
            (0, Event::Response { tx: t, response }) if t == tx => status = response.status(),
            (
                1,
                Event::IncomingTransfer {
                    transfer,
                    refer_sub,
                    ..
                },
            ) => {
                sub = Some(refer_sub);
                ep.reject_transfer(now, transfer, 603).unwrap();
            }
            _ => {}
        });
        (status, sub)
    };
    let good = || Some(Uri::parse("sip:c@10.0.0.3").unwrap());
    // B refuses every transfer beyond none at a time.
    let mut sim = Sim::new(21);
    sim.add_endpoint("10.0.0.1:5060");
    sim.add_endpoint_tuned("10.0.0.2:5060", |c| c.max_transfers_per_dialog = 0);
    sim.add_endpoint("10.0.0.3:5060");
    let (ab, _) = a_calls_b(&mut sim);
    assert_eq!(send(&mut sim, ab, 100, None, None), (Some(400), None));
    let tel = Some(Uri::parse("tel:+15551234").unwrap());
    assert_eq!(send(&mut sim, ab, 101, tel, None), (Some(416), None));
    let bad = Some(bad_replaces_target());
    assert_eq!(send(&mut sim, ab, 102, bad, None), (Some(400), None));
    assert_eq!(send(&mut sim, ab, 103, good(), None), (Some(503), None));
    // `Refer-Sub: false` to a B that supports `norefersub` (the default), and to one that
    // does not.
    for (supports, seq) in [(true, 200), (false, 300)] {
        let mut sim = Sim::new(22);
        sim.add_endpoint("10.0.0.1:5060");
        sim.add_endpoint_tuned("10.0.0.2:5060", |c| {
            if !supports {
                c.supported.retain(|t| t.as_str() != "norefersub");
            }
        });
        sim.add_endpoint("10.0.0.3:5060");
        let (ab, _) = a_calls_b(&mut sim);
        let (status, sub) = send(&mut sim, ab, seq, good(), Some(false));
        assert_eq!(status, Some(603), "refused by the application");
        assert_eq!(sub, Some(!supports), "norefersub supported: {supports}");
        let (_, sub) = send(&mut sim, ab, seq + 1, good(), None);
        assert_eq!(sub, Some(true), "no Refer-Sub: the subscription");
    }
}
