//! The peer's session descriptions handed to the application (`Event::RemoteSdp`), in every
//! place SIP carries an offer or an answer (RFC 3261 §13.2.1, §13.2.2.4, §13.3.1.4, §14;
//! RFC 3264): the answer in a provisional response and in the 2xx, the offer in the 2xx to
//! an INVITE without one and the answer the application gives for it in the ACK, the offer
//! of a re-INVITE and the answer to ours, and the answer in the ACK of a 2xx that offered.
//! Each test checks the events against the messages on the wire that carried them.

use bytes::Bytes;
use sipxfer::msg::{Header, MediaType, Message, Uri};
use sipxfer::sdp;
use sipxfer::{CallOptions, CallState, Event, Instant, SdpKind};
use sipxfer_tests::flows::{hold_resume, reply, Events, Manual};
use sipxfer_tests::sim::Sim;

const SDP_A: &[u8] = b"v=0\r\no=a 100 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";
const SDP_B: &[u8] = b"v=0\r\no=b 200 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=sendrecv\r\n";
/// An answer that refuses the one audio stream of `SDP_B` (RFC 3264 §6).
const REFUSAL: &str = "o=- 0 0 IN IP4 0.0.0.0 | m=audio 0 RTP/AVP 0 | SendRecv";

const B: &str = "10.0.0.2:5060";

fn bob() -> Uri<sipxfer::SipStr> {
    Uri::parse("sip:bob@10.0.0.2:5060").unwrap()
}

fn offering(sdp: &'static [u8]) -> CallOptions {
    CallOptions {
        offer: Some(Bytes::from_static(sdp)),
        ..Default::default()
    }
}

/// The `o=` line of a session description, and its direction.
fn label(body: &[u8]) -> String {
    let text = std::str::from_utf8(body).unwrap();
    let o = text.lines().find(|l| l.starts_with("o=")).unwrap();
    let m = text.lines().find(|l| l.starts_with("m=")).unwrap();
    format!("{o} | {m} | {:?}", sdp::direction(body))
}

/// The events an application sees about offers, answers and call states, in order.
fn story<'a>(events: impl IntoIterator<Item = &'a Event>) -> Vec<String> {
    events
        .into_iter()
        .filter_map(|e| match e {
            Event::RemoteSdp {
                kind, status, sdp, ..
            } => Some(format!("{kind:?} {status:?}: {}", label(sdp))),
            Event::CallState { state, status, .. } => Some(format!("{state:?} {status:?}")),
            Event::IncomingCall { offer, .. } => Some(format!(
                "IncomingCall: {}",
                offer.as_deref().map_or("no offer".into(), label)
            )),
            _ => None,
        })
        .collect()
}

/// The session descriptions of `events`, in order.
fn bodies<'a>(events: impl IntoIterator<Item = &'a Event>) -> Vec<Bytes> {
    events
        .into_iter()
        .filter_map(|e| match e {
            Event::RemoteSdp { sdp, .. } => Some(sdp.clone()),
            _ => None,
        })
        .collect()
}

/// `m` with `sdp` as its body.
fn with_sdp(mut m: Message, sdp: &'static [u8]) -> Message {
    m.headers.push(Header::ContentType(MediaType {
        ty: "application".into(),
        subtype: "sdp".into(),
        params: Default::default(),
    }));
    m.body = Bytes::from_static(sdp);
    m
}

/// A response's or request's first line, and its body's `o=` line if it has one.
fn wire(m: &Message) -> String {
    let line = String::from_utf8_lossy(&m.to_bytes())
        .split("\r\n")
        .next()
        .unwrap()
        .to_string();
    if m.body.is_empty() {
        line
    } else {
        format!("{line} + {}", label(&m.body))
    }
}

#[test]
fn a_call_and_its_hold_and_resume_report_each_remote_sdp_before_the_state() {
    let mut sim = Sim::new(11);
    sim.add_endpoint("10.0.0.1:5060");
    sim.add_endpoint(B);
    // A holds, resumes and hangs up, each once the previous step is reported.
    let (ea, eb) = hold_resume(&mut sim, bob(), SDP_A, SDP_B, 0, 0);
    assert_eq!(
        story(ea.iter().map(|(_, e)| e)),
        [
            "Calling None",
            "Answer Some(200): o=b 200 1 IN IP4 10.0.0.2 | m=audio 5000 RTP/AVP 0 | SendRecv",
            "Confirmed Some(200)",
            // B's answers to the hold and the resume: its SDP, direction mirrored, version
            // bumped (RFC 3264 §6.1, §8).
            "Answer Some(200): o=b 200 2 IN IP4 10.0.0.2 | m=audio 5000 RTP/AVP 0 | RecvOnly",
            "Held Some(200)",
            "Answer Some(200): o=b 200 3 IN IP4 10.0.0.2 | m=audio 5000 RTP/AVP 0 | SendRecv",
            "Resumed Some(200)",
            "Terminated { reason: LocalHangup } None",
        ]
    );
    assert_eq!(
        story(eb.iter().map(|(_, e)| e)),
        [
            "IncomingCall: o=a 100 1 IN IP4 10.0.0.1 | m=audio 4000 RTP/AVP 0 | SendRecv",
            "Confirmed Some(200)",
            // A's re-INVITEs' offers (§14.2), each before the state its ACK confirms.
            "Offer None: o=a 100 2 IN IP4 10.0.0.1 | m=audio 4000 RTP/AVP 0 | SendOnly",
            "Held Some(200)",
            "Offer None: o=a 100 3 IN IP4 10.0.0.1 | m=audio 4000 RTP/AVP 0 | SendRecv",
            "Resumed Some(200)",
            "Terminated { reason: RemoteHangup } None",
        ]
    );
    // What each side was handed is, byte for byte, the body the other sent: A's are B's
    // three 2xx to INVITEs, B's are A's two re-INVITEs.
    let sent = |from: usize, first: &str| -> Vec<Bytes> {
        sim.sent_by(from)
            .iter()
            .filter(|l| l.first_line().starts_with(first))
            .map(|l| sipxfer_tests::flows::parse(&l.bytes))
            .filter(|m| m.cseq().is_some_and(|c| c.method.as_str() == "INVITE"))
            .map(|m| m.body)
            .collect()
    };
    assert_eq!(bodies(ea.iter().map(|(_, e)| e)), sent(1, "SIP/2.0 200"));
    assert_eq!(bodies(eb.iter().map(|(_, e)| e)), sent(0, "INVITE")[1..]);
}

#[test]
fn an_answer_in_a_provisional_response_comes_before_the_2xx_answer() {
    let mut a = Manual::new(1, |_| {});
    let call = a.ep.call(a.now, bob(), offering(SDP_A)).unwrap();
    let invite = a.sent().remove(0);
    a.recv(B, &reply(&invite, 180, "b1", Some("sip:bob@10.0.0.2:5060")));
    let early = with_sdp(
        reply(&invite, 183, "b1", Some("sip:bob@10.0.0.2:5060")),
        SDP_B,
    );
    a.recv(B, &early);
    let ok = with_sdp(
        reply(&invite, 200, "b1", Some("sip:bob@10.0.0.2:5060")),
        SDP_B,
    );
    a.recv(B, &ok);
    let events = a.events();
    assert_eq!(
        story(&events),
        [
            "Calling None",
            // A 180 without a body reports no SDP.
            "Ringing Some(180)",
            // RFC 3261 §13.2.1: the answer "MAY also be placed in any provisional responses
            // sent prior to the answer" (early media); each is reported as it comes.
            "Answer Some(183): o=b 200 1 IN IP4 10.0.0.2 | m=audio 5000 RTP/AVP 0 | SendRecv",
            "Early Some(183)",
            "Answer Some(200): o=b 200 1 IN IP4 10.0.0.2 | m=audio 5000 RTP/AVP 0 | SendRecv",
            "Confirmed Some(200)",
        ]
    );
    assert!(events.iter().all(|e| match e {
        Event::RemoteSdp { call: c, .. } | Event::CallState { call: c, .. } => *c == call,
        _ => true,
    }));
    assert_eq!(bodies(&events), [early.body, ok.body]);
    // The ACK carries no body: the INVITE had the offer.
    let ack = a.sent().remove(0);
    assert_eq!(wire(&ack), "ACK sip:bob@10.0.0.2:5060 SIP/2.0");
}

/// A calls B without an offer; B's 2xx carries its offer. Returns the caller, its call, the
/// INVITE and the 2xx.
fn offer_in_the_2xx() -> (Manual, sipxfer::CallId, Message, Message) {
    let mut a = Manual::new(2, |_| {});
    let call = a.ep.call(a.now, bob(), CallOptions::default()).unwrap();
    let invite = a.sent().remove(0);
    assert!(invite.body.is_empty() && invite.content_type().is_none());
    let ok = with_sdp(
        reply(&invite, 200, "b2", Some("sip:bob@10.0.0.2:5060")),
        SDP_B,
    );
    a.recv(B, &ok);
    (a, call, invite, ok)
}

#[test]
fn the_offer_of_a_2xx_is_answered_in_the_ack_the_application_gives() {
    let (mut a, call, _, ok) = offer_in_the_2xx();
    let events = a.events();
    assert_eq!(
        story(&events),
        [
            "Calling None",
            "Offer Some(200): o=b 200 1 IN IP4 10.0.0.2 | m=audio 5000 RTP/AVP 0 | SendRecv",
            "Confirmed Some(200)",
        ]
    );
    assert_eq!(bodies(&events), std::slice::from_ref(&ok.body));
    // The ACK waits for the answer (§13.2.2.4: "the ACK MUST carry an answer"), through the
    // 2xx's retransmissions.
    assert!(a.sent().is_empty(), "no ACK before the answer");
    a.wait_until(Instant::from_millis(1_500));
    a.recv(B, &ok);
    assert!(a.sent().is_empty(), "a retransmitted 2xx waits too");
    assert!(a.events().is_empty(), "and is not reported again");
    // No re-INVITE before that ACK (§14.1: one INVITE transaction at a time).
    assert!(a
        .ep
        .reinvite(a.now, call, Bytes::from_static(SDP_A))
        .is_err());
    assert!(a.sent().is_empty());
    // The ACK must carry an answer (to refuse the offer, hang up).
    assert!(a.ep.answer(a.now, call, None).is_err());
    assert!(a.sent().is_empty());
    a.ep.answer(a.now, call, Some(Bytes::from_static(SDP_A)))
        .unwrap();
    let ack = a.sent().remove(0);
    assert_eq!(
        wire(&ack),
        "ACK sip:bob@10.0.0.2:5060 SIP/2.0 + o=a 100 1 IN IP4 10.0.0.1 | m=audio 4000 RTP/AVP 0 | SendRecv"
    );
    assert_eq!(ack.body, SDP_A);
    let ctype = ack.content_type().unwrap();
    assert_eq!(
        (ctype.ty.as_str(), ctype.subtype.as_str()),
        ("application", "sdp")
    );
    assert_eq!(ack.cseq().unwrap().seq, 1);
    // A retransmitted 2xx gets that same ACK, byte for byte.
    a.recv(B, &ok);
    let again = a.sent();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].to_bytes(), ack.to_bytes());
    // The answer is what a hold re-offers (RFC 3264 §8.4).
    a.ep.hold(a.now, call).unwrap();
    let reinvite = a.sent().remove(0);
    assert_eq!(
        wire(&reinvite),
        "INVITE sip:bob@10.0.0.2:5060 SIP/2.0 + o=a 100 2 IN IP4 10.0.0.1 | m=audio 4000 RTP/AVP 0 | SendOnly"
    );
}

/// The CSeq number and method of `m`, and its top Via's branch.
fn cseq_branch(m: &Message) -> (u32, String, String) {
    let c = m.cseq().unwrap();
    let branch = m.vias().next().unwrap().branch().unwrap().to_string();
    (c.seq, c.method.as_str().to_string(), branch)
}

/// `out` is an ACK to `uri` whose answer refuses every offered stream (RFC 3264 §6), then a
/// BYE to it (RFC 3261 §13.2.2.4: "generate a valid answer in the ACK and then send a BYE
/// immediately").
fn assert_refused_then_byed(out: &[Message], uri: &str) {
    assert_eq!(
        out.iter().map(wire).collect::<Vec<_>>(),
        [
            format!("ACK {uri} SIP/2.0 + {REFUSAL}"),
            format!("BYE {uri} SIP/2.0"),
        ]
    );
}

/// Another fork's 2xx to `invite` (To tag `tag`, Contact `contact`) offering too: its ACK
/// refuses the offer, then it is BYEd; its 2xx again gets that same ACK, no second BYE
/// (§13.2.2.4); the application hears of none of it.
fn losing_fork_offers(a: &mut Manual, invite: &Message, tag: &str, contact: &str) {
    let other = with_sdp(reply(invite, 200, tag, Some(contact)), SDP_B);
    a.recv(B, &other);
    let out = a.sent();
    assert_refused_then_byed(&out, contact);
    assert!(out.iter().all(|m| m.to().unwrap().tag() == Some(tag)));
    a.recv(B, &other);
    let again = a.sent();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].to_bytes(), out[0].to_bytes());
    assert!(
        a.events().is_empty(),
        "the other fork's offer is not reported"
    );
}

#[test]
fn hanging_up_before_answering_the_2xx_offer_refuses_it_in_the_ack_then_byes() {
    let (mut a, call, invite, _) = offer_in_the_2xx();
    a.events();
    a.ep.hangup(a.now, call).unwrap();
    let out = a.sent();
    // §13.2.2.4: "If the offer in the 2xx response is not acceptable, the UAC core MUST
    // generate a valid answer in the ACK and then send a BYE immediately": every stream
    // refused (RFC 3264 §6).
    assert_refused_then_byed(&out, "sip:bob@10.0.0.2:5060");
    let (ack, bye, inv) = (
        cseq_branch(&out[0]),
        cseq_branch(&out[1]),
        cseq_branch(&invite),
    );
    assert_eq!((ack.0, ack.1.as_str()), (1, "ACK"));
    assert_eq!((bye.0, bye.1.as_str()), (2, "BYE"));
    assert!(ack.2 != inv.2 && bye.2 != inv.2 && ack.2 != bye.2);
    assert_eq!(
        story(&a.events()),
        ["Terminated { reason: LocalHangup } None"]
    );
}

#[test]
fn an_offer_left_unanswered_is_refused_after_32_t1() {
    let (mut a, call, _, ok) = offer_in_the_2xx();
    a.events();
    // The 2xx's retransmissions wait with the ACK for 32·T1 (the 2xx came at 10 ms): half
    // the 64·T1 the peer retransmits it for (§13.3.1.4) before it gives up on the ACK.
    a.wait_until(Instant::from_millis(15_900));
    a.recv(B, &ok);
    assert!(a.sent().is_empty() && a.events().is_empty());
    a.wait_until(Instant::from_millis(16_100));
    let out = a.sent();
    assert_refused_then_byed(&out, "sip:bob@10.0.0.2:5060");
    assert_eq!(cseq_branch(&out[0]).0, 1);
    assert_eq!(
        story(&a.events()),
        ["Terminated { reason: OfferUnanswered } None"]
    );
    assert!(a
        .ep
        .answer(a.now, call, Some(Bytes::from_static(SDP_A)))
        .is_err());
    // The BYE answered, the 2xx sent again: the same ACK (its transaction lingers, RFC 6026),
    // and nothing is left once the RFC timers have run.
    a.recv(B, &reply(&out[1], 200, "b2", None));
    a.recv(B, &ok);
    let again = a.sent();
    assert!(
        again
            .iter()
            .all(|m| m.method().map(|x| x.as_str()) != Some("BYE")),
        "{again:?}"
    );
    a.wait_until(Instant::from_secs(60));
    let s = a.ep.stats();
    assert_eq!((s.transactions, s.timers, s.dialogs), (0, 0, 0), "{s:?}");
}

#[test]
fn a_callee_whose_offer_is_never_answered_gets_the_refusal_then_a_bye() {
    let mut sim = Sim::new(13);
    sim.add_endpoint("10.0.0.1:5060");
    sim.add_endpoint(B);
    sim.ep(0)
        .call(Instant::ZERO, bob(), CallOptions::default())
        .unwrap();
    let (mut ea, mut eb): (Events, Events) = (vec![], vec![]);
    sim.run_to_end(|ep, n, now, e| {
        // B offers in its 2xx; A's application ignores the offer.
        if let Event::IncomingCall { call, .. } = &e {
            ep.answer(now, *call, Some(Bytes::from_static(SDP_B)))
                .unwrap();
        }
        if n == 0 { &mut ea } else { &mut eb }.push((now, e));
    });
    assert_eq!(
        story(ea.iter().map(|(_, e)| e)),
        [
            "Calling None",
            "Offer Some(200): o=b 200 1 IN IP4 10.0.0.2 | m=audio 5000 RTP/AVP 0 | SendRecv",
            "Confirmed Some(200)",
            "Terminated { reason: OfferUnanswered } None",
        ]
    );
    // B gets the refusal in the ACK before its own give-up (64·T1), then A's BYE.
    assert_eq!(
        story(eb.iter().map(|(_, e)| e)),
        [
            "IncomingCall: no offer",
            &format!("Answer None: {REFUSAL}"),
            "Confirmed Some(200)",
            "Terminated { reason: RemoteHangup } None",
        ]
    );
    let ended = ea.last().unwrap().0;
    assert!(
        (16.0..16.2).contains(&(ended.as_micros() as f64 / 1e6)),
        "{ended:?}"
    );
    for i in 0..2 {
        let s = sim.ep(i).stats();
        assert_eq!((s.transactions, s.timers, s.dialogs), (0, 0, 0), "{s:?}");
    }
}

/// [`offer_in_the_2xx`], answered with `SDP_A`: also the ACK that carried the answer.
fn answered_offer_in_the_2xx() -> (Manual, sipxfer::CallId, Message, Message, Message) {
    let (mut a, call, invite, ok) = offer_in_the_2xx();
    a.events();
    a.ep.answer(a.now, call, Some(Bytes::from_static(SDP_A)))
        .unwrap();
    let mut out = a.sent();
    assert_eq!(out.len(), 1);
    let ack = out.remove(0);
    assert_eq!(ack.body, SDP_A);
    (a, call, invite, ok, ack)
}

#[test]
fn a_new_forks_2xx_offer_after_the_answer_is_refused_in_its_ack() {
    let (mut a, _, invite, _, _) = answered_offer_in_the_2xx();
    // Another fork answers late, offering too (our INVITE had no offer, §13.2.1): the ACK
    // must carry an answer — one that refuses every stream — then the BYE (§13.2.2.4).
    losing_fork_offers(&mut a, &invite, "fork3", "sip:bob@10.0.0.23:5060");
}

#[test]
fn after_the_call_ended_a_forks_offering_2xx_is_refused_and_the_answer_acked_again() {
    let (mut a, call, invite, ok, ack) = answered_offer_in_the_2xx();
    a.ep.hangup(a.now, call).unwrap();
    let bye = a.sent().remove(0);
    a.recv(B, &reply(&bye, 200, "b2", None));
    assert_eq!(
        story(&a.events()),
        ["Terminated { reason: LocalHangup } None"]
    );
    // The INVITE's transaction lingers (RFC 6026 §7.2): another fork's offering 2xx is
    // refused in its ACK and BYEd, as during the call (§13.2.2.4).
    losing_fork_offers(&mut a, &invite, "fork3", "sip:bob@10.0.0.23:5060");
    // The call's own 2xx again: the ACK with the application's answer, as it went.
    a.recv(B, &ok);
    let again = a.sent();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].to_bytes(), ack.to_bytes());
    assert!(a.events().is_empty());
    a.wait_until(a.now + sipxfer::Duration::from_secs(40));
    let s = a.ep.stats();
    assert_eq!((s.transactions, s.timers, s.dialogs), (0, 0, 0), "{s:?}");
}

#[test]
fn after_a_reinvite_and_the_end_of_the_call_the_2xx_that_offered_is_not_acked_again() {
    // The ACK that carried the application's answer was followed by a re-INVITE's: it is
    // not kept, and another answer (a refusal) is not made up for a copy of the 2xx that
    // comes after the call ended — as none would be while the call is up.
    let (mut a, call, _, ok, _) = answered_offer_in_the_2xx();
    a.ep.hold(a.now, call).unwrap();
    let reinvite = a.sent().remove(0);
    a.recv(
        B,
        &with_sdp(
            reply(&reinvite, 200, "b2", Some("sip:bob@10.0.0.2:5060")),
            SDP_B,
        ),
    );
    assert_eq!(a.sent()[0].method().unwrap().as_str(), "ACK");
    a.recv(B, &ok);
    assert!(a.sent().is_empty(), "the call up: no ACK for an old 2xx");
    a.ep.hangup(a.now, call).unwrap();
    assert_eq!(a.sent()[0].method().unwrap().as_str(), "BYE");
    a.recv(B, &ok);
    assert!(a.sent().is_empty(), "the call over: none either");
}

#[test]
fn while_the_ack_waits_a_refer_goes_and_the_ack_keeps_the_invites_cseq() {
    let (mut a, call, _, ok) = offer_in_the_2xx();
    a.events();
    // A blind transfer without hold needs no re-INVITE: its REFER goes in the dialog
    // (CSeq 2) before the answer.
    let t = sipxfer::Transfer::Blind {
        target: Uri::parse("sip:carol@10.0.0.3:5060").unwrap(),
        options: sipxfer::BlindOptions {
            hold: false,
            ..Default::default()
        },
    };
    a.ep.transfer(a.now, call, t).unwrap();
    let refer = a.sent().remove(0);
    assert_eq!(cseq_branch(&refer).0, 2);
    assert_eq!(refer.method().unwrap().as_str(), "REFER");
    a.ep.answer(a.now, call, Some(Bytes::from_static(SDP_A)))
        .unwrap();
    let ack = a.sent().remove(0);
    assert_eq!(
        (cseq_branch(&ack).0, ack.body.clone()),
        (1, Bytes::from_static(SDP_A))
    );
    // And the 2xx's retransmission finds it.
    a.recv(B, &ok);
    assert_eq!(a.sent()[0].to_bytes(), ack.to_bytes());
}

#[test]
fn while_the_ack_waits_a_reinvite_gets_491_and_a_bye_ends_the_call() {
    let (mut a, _call, invite, ok) = offer_in_the_2xx();
    a.events();
    let tag = ok.to().unwrap().tag().unwrap().to_string();
    let from_tag = invite.from().unwrap().tag().unwrap().to_string();
    let call_id = invite.call_id().unwrap().to_string();
    let request = |method: &str, seq: u32, sdp: Option<&'static [u8]>| {
        let body = sdp.unwrap_or_default();
        let ctype = if sdp.is_some() {
            "Content-Type: application/sdp\r\n"
        } else {
            ""
        };
        let mut text = format!(
            "{method} sip:10.0.0.1:5060 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-b-{method}{seq}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:bob@10.0.0.2:5060>;tag={tag}\r\n\
             To: <sip:10.0.0.1:5060>;tag={from_tag}\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {seq} {method}\r\n\
             Contact: <sip:bob@10.0.0.2:5060>\r\n\
             {ctype}Content-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        text.extend_from_slice(body);
        Message::parse(Bytes::from(text), &Default::default()).unwrap()
    };
    // The INVITE is not over until its ACK (§14.1): a new offer collides (§14.2).
    a.recv(B, &request("INVITE", 2, Some(SDP_B)));
    assert_eq!(wire(&a.sent()[0]), "SIP/2.0 491 Request Pending");
    assert!(a.events().is_empty(), "a refused offer is not reported");
    a.recv(B, &request("BYE", 3, None));
    // The call is over: its 2xx still gets its ACK, refusing the offer that was never
    // answered (§13.2.2.4: "an ACK request for each 2xx"), and the BYE its 200.
    let out = a.sent();
    assert_eq!(
        out.iter().map(wire).collect::<Vec<_>>(),
        [
            "SIP/2.0 200 OK".to_string(),
            format!("ACK sip:bob@10.0.0.2:5060 SIP/2.0 + {REFUSAL}")
        ]
    );
    assert_eq!(cseq_branch(&out[1]).0, 1);
    assert_eq!(
        story(&a.events()),
        ["Terminated { reason: RemoteHangup } None"]
    );
    // That ACK again for the 2xx again, and nothing else.
    a.recv(B, &ok);
    let again = a.sent();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].to_bytes(), out[1].to_bytes());
    // Nothing waits any more (the 491 is sent again, unACKed by this script, until Timer
    // H), and everything is gone after the RFC timers.
    a.wait_until(Instant::from_secs(40));
    let later: Vec<String> = a.sent().iter().map(wire).collect();
    assert!(
        later.iter().all(|w| w == "SIP/2.0 491 Request Pending"),
        "{later:?}"
    );
    let s = a.ep.stats();
    assert_eq!((s.dialogs, s.transactions), (0, 0), "{s:?}");
}

#[test]
fn a_2xx_offer_crossing_a_cancel_is_refused_in_the_ack_then_byed() {
    let mut a = Manual::new(4, |_| {});
    let call = a.ep.call(a.now, bob(), CallOptions::default()).unwrap();
    let invite = a.sent().remove(0);
    a.recv(B, &reply(&invite, 180, "b4", Some("sip:bob@10.0.0.2:5060")));
    a.ep.hangup(a.now, call).unwrap();
    assert_eq!(a.sent()[0].method().unwrap().as_str(), "CANCEL");
    a.events();
    let ok = with_sdp(
        reply(&invite, 200, "b4", Some("sip:bob@10.0.0.2:5060")),
        SDP_B,
    );
    a.recv(B, &ok);
    assert_refused_then_byed(&a.sent(), "sip:bob@10.0.0.2:5060");
    // The application, which hung up, is not asked for an answer.
    assert_eq!(
        story(&a.events()),
        [
            "Confirmed Some(200)",
            "Terminated { reason: LocalHangup } None"
        ]
    );
}

#[test]
fn a_second_forks_2xx_offer_is_refused_in_its_ack_and_byed() {
    let (mut a, call, invite, _) = offer_in_the_2xx();
    a.events();
    losing_fork_offers(&mut a, &invite, "fork2", "sip:bob@10.0.0.22:5060");
    // The first fork's call still waits for its answer.
    a.ep.answer(a.now, call, Some(Bytes::from_static(SDP_A)))
        .unwrap();
    let ack = a.sent().remove(0);
    assert_eq!(
        (ack.to().unwrap().tag(), ack.body.clone()),
        (Some("b2"), Bytes::from_static(SDP_A))
    );
}

#[test]
fn a_call_without_an_offer_between_two_endpoints() {
    let mut sim = Sim::new(12);
    sim.add_endpoint("10.0.0.1:5060");
    sim.add_endpoint(B);
    sim.ep(0)
        .call(Instant::ZERO, bob(), CallOptions::default())
        .unwrap();
    let (mut ea, mut eb): (Events, Events) = (vec![], vec![]);
    sim.run_to_end(|ep, n, now, e| {
        match &e {
            // B offers in its 2xx (§13.3.1.4), A answers in the ACK (§13.2.2.4).
            Event::IncomingCall { call, .. } => {
                ep.answer(now, *call, Some(Bytes::from_static(SDP_B)))
                    .unwrap();
            }
            Event::RemoteSdp {
                call,
                kind: SdpKind::Offer,
                ..
            } if n == 0 => {
                ep.answer(now, *call, Some(Bytes::from_static(SDP_A)))
                    .unwrap();
            }
            Event::CallState {
                call,
                state: CallState::Confirmed,
                ..
            } if n == 1 => ep.hangup(now, *call).unwrap(),
            _ => {}
        }
        if n == 0 { &mut ea } else { &mut eb }.push((now, e));
    });
    assert_eq!(
        story(ea.iter().map(|(_, e)| e)),
        [
            "Calling None",
            "Offer Some(200): o=b 200 1 IN IP4 10.0.0.2 | m=audio 5000 RTP/AVP 0 | SendRecv",
            "Confirmed Some(200)",
            "Terminated { reason: RemoteHangup } None",
        ]
    );
    assert_eq!(
        story(eb.iter().map(|(_, e)| e)),
        [
            "IncomingCall: no offer",
            // The answer in the ACK, reported before the call is confirmed by it.
            "Answer None: o=a 100 1 IN IP4 10.0.0.1 | m=audio 4000 RTP/AVP 0 | SendRecv",
            "Confirmed Some(200)",
            "Terminated { reason: LocalHangup } None",
        ]
    );
    let wire_of = |from: usize| -> Vec<String> {
        sim.sent_by(from)
            .iter()
            .map(|l| wire(&sipxfer_tests::flows::parse(&l.bytes)))
            .collect()
    };
    assert_eq!(
        wire_of(0),
        [
            "INVITE sip:bob@10.0.0.2:5060 SIP/2.0",
            "ACK sip:10.0.0.2:5060 SIP/2.0 + o=a 100 1 IN IP4 10.0.0.1 | m=audio 4000 RTP/AVP 0 | SendRecv",
            "SIP/2.0 200 OK",
        ]
    );
    assert!(wire_of(1)[0].starts_with("SIP/2.0 200 OK + o=b 200 1"));
    for i in 0..2 {
        let s = sim.ep(i).stats();
        assert_eq!((s.transactions, s.timers, s.dialogs), (0, 0, 0), "{s:?}");
    }
}

/// An endpoint that answered a scripted caller's INVITE (offer `SDP_A`) with `SDP_B`, the
/// ACK received: the callee, its call, and the caller's tag and the callee's.
fn answered_call() -> (Manual, sipxfer::CallId, String) {
    let mut b = Manual::new(3, |_| {});
    let invite = scripted("INVITE", 1, None, Some(SDP_A));
    b.recv("10.0.0.9:5060", &invite);
    let call = match b.events().remove(0) {
        Event::IncomingCall { call, .. } => call,
        e => panic!("{e:?}"),
    };
    b.ep.answer(b.now, call, Some(Bytes::from_static(SDP_B)))
        .unwrap();
    let ok = b.sent().remove(0);
    let tag = ok.to().unwrap().tag().unwrap().to_string();
    b.recv("10.0.0.9:5060", &scripted("ACK", 1, Some(&tag), None));
    assert_eq!(story(&b.events()), ["Confirmed Some(200)"]);
    (b, call, tag)
}

/// A request of a scripted caller at 10.0.0.9 to the endpoint at 10.0.0.1, in the dialog
/// with our tag `tag` when given.
fn scripted(method: &str, seq: u32, tag: Option<&str>, sdp: Option<&'static [u8]>) -> Message {
    let to_tag = tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    let body = sdp.unwrap_or_default();
    let ctype = if sdp.is_some() {
        "Content-Type: application/sdp\r\n"
    } else {
        ""
    };
    let text = format!(
        "{method} sip:u@10.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-{method}{seq}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:carol@10.0.0.9>;tag=carol\r\n\
         To: <sip:u@10.0.0.1>{to_tag}\r\n\
         Call-ID: scripted-1\r\n\
         CSeq: {seq} {method}\r\n\
         Contact: <sip:carol@10.0.0.9:5060>\r\n\
         {ctype}Content-Length: {}\r\n\r\n",
        body.len()
    );
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(body);
    Message::parse(Bytes::from(bytes), &Default::default()).unwrap()
}

#[test]
fn a_reinvite_without_an_offer_gets_ours_and_its_ack_answer_is_reported() {
    let (mut b, _, tag) = answered_call();
    // RFC 3261 §14.2: a re-INVITE without an offer: our 2xx offers (our last SDP, its
    // version bumped), and the answer comes in the ACK.
    b.recv("10.0.0.9:5060", &scripted("INVITE", 2, Some(&tag), None));
    assert!(b.events().is_empty(), "no offer to report");
    let ok = b.sent().remove(0);
    assert_eq!(
        wire(&ok),
        "SIP/2.0 200 OK + o=b 200 2 IN IP4 10.0.0.2 | m=audio 5000 RTP/AVP 0 | SendRecv"
    );
    const ANSWER: &[u8] = b"v=0\r\no=carol 7 2 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\na=sendrecv\r\n";
    let ack = scripted("ACK", 2, Some(&tag), Some(ANSWER));
    b.recv("10.0.0.9:5060", &ack);
    let events = b.events();
    assert_eq!(
        story(&events),
        ["Answer None: o=carol 7 2 IN IP4 10.0.0.9 | m=audio 7000 RTP/AVP 0 | SendRecv"]
    );
    assert_eq!(bodies(&events), std::slice::from_ref(&ack.body));
    // A retransmitted ACK is not reported again.
    b.recv("10.0.0.9:5060", &ack);
    assert!(b.events().is_empty());
    // A re-INVITE with an offer (a new media address, as after a transfer): reported, then
    // answered.
    const MOVED: &[u8] = b"v=0\r\no=carol 7 3 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.99\r\nt=0 0\r\nm=audio 7002 RTP/AVP 0\r\na=sendrecv\r\n";
    b.recv(
        "10.0.0.9:5060",
        &scripted("INVITE", 3, Some(&tag), Some(MOVED)),
    );
    let events = b.events();
    assert_eq!(
        story(&events),
        ["Offer None: o=carol 7 3 IN IP4 10.0.0.9 | m=audio 7002 RTP/AVP 0 | SendRecv"]
    );
    assert_eq!(bodies(&events), [Bytes::from_static(MOVED)]);
    assert_eq!(
        wire(&b.sent()[0]),
        "SIP/2.0 200 OK + o=b 200 3 IN IP4 10.0.0.2 | m=audio 5000 RTP/AVP 0 | SendRecv"
    );
}

#[test]
fn an_offer_refused_491_is_not_reported() {
    let (mut b, call, tag) = answered_call();
    // Our own re-INVITE in progress: the peer's collides (§14.2, 491), and its offer is
    // not one the session takes.
    b.ep.hold(b.now, call).unwrap();
    b.sent();
    b.recv(
        "10.0.0.9:5060",
        &scripted("INVITE", 2, Some(&tag), Some(SDP_A)),
    );
    assert!(b.events().is_empty());
    assert_eq!(wire(&b.sent()[0]), "SIP/2.0 491 Request Pending");
}
