//! The transfer target's side of attended transfer (RFC 3891 §3), against scripted peers: our
//! endpoint at 10.0.0.1 has a call with "alice" (10.0.0.9) and receives INVITEs with
//! `Replaces` from "bob" (10.0.0.2). Every refusal the RFC names is its own test.

use sipxfer::msg::{Message, Uri};
use sipxfer::{CallId, CallState, EndReason, Event};
use sipxfer_tests::flows::{parse, reply, Manual};

const ALICE: &str = "10.0.0.9:5060";
const BOB: &str = "10.0.0.2:5060";
const SDP: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";

fn msg(text: String) -> Message {
    parse(&bytes::Bytes::from(text))
}

/// An INVITE outside any dialog from `peer` (user `who`), with `extra` headers and an SDP
/// offer.
fn invite(peer: &str, who: &str, call_id: &str, extra: &str) -> Message {
    msg(format!(
        "INVITE sip:carol@10.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP {peer};branch=z9hG4bK-{call_id}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{who}@{peer}>;tag={who}-tag\r\n\
         To: <sip:carol@10.0.0.1>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:{who}@{peer}>\r\n\
         {extra}\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{SDP}",
        SDP.len()
    ))
}

/// An ACK for our 2xx to `inv` (To tag `tag`).
fn ack(inv: &Message, peer: &str, tag: &str) -> Message {
    let text = String::from_utf8(inv.to_bytes().to_vec()).unwrap();
    let head = text.split("\r\n\r\n").next().unwrap();
    let mut out = String::new();
    for line in head.split("\r\n") {
        if line.starts_with("INVITE ") {
            out.push_str("ACK sip:carol@10.0.0.1:5060 SIP/2.0\r\n");
        } else if line.starts_with("CSeq:") {
            out.push_str("CSeq: 1 ACK\r\n");
        } else if line.starts_with("To:") {
            out.push_str(&format!("{line};tag={tag}\r\n"));
        } else if line.starts_with("Via:") {
            out.push_str(&format!(
                "Via: SIP/2.0/UDP {peer};branch=z9hG4bK-ack{tag}\r\n"
            ));
        } else if line.starts_with("Content-") {
        } else {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    msg(out)
}

/// Our endpoint with a confirmed call from alice: returns it, the call, and our tag.
fn carol_with_a_call() -> (Manual, CallId, String) {
    let mut c = Manual::new(3, |_| {});
    let inv = invite(ALICE, "alice", "consult-1", "");
    c.recv(ALICE, &inv);
    let call = incoming(&mut c.events()).0;
    c.ep.answer(c.now, call, Some(bytes::Bytes::from_static(SDP.as_bytes())))
        .unwrap();
    let ok = c
        .sent()
        .into_iter()
        .find(|m| m.status() == Some(200))
        .unwrap();
    let tag = ok.to().unwrap().tag().unwrap().to_string();
    c.recv(ALICE, &ack(&inv, ALICE, &tag));
    assert!(c.events().iter().any(|e| matches!(
        e,
        Event::CallState {
            state: CallState::Confirmed,
            ..
        }
    )));
    (c, call, tag)
}

/// The IncomingCall among `events`: the call and what it replaces.
fn incoming(events: &mut [Event]) -> (CallId, Option<CallId>) {
    events
        .iter()
        .find_map(|e| match e {
            Event::IncomingCall { call, replaces, .. } => Some((*call, *replaces)),
            _ => None,
        })
        .expect("an incoming call")
}

/// The final status we sent for the INVITE with Call-ID `call_id`.
fn answered(c: &mut Manual, call_id: &str) -> Option<u16> {
    c.sent()
        .into_iter()
        .filter(|m| m.call_id() == Some(call_id))
        .filter_map(|m| m.status())
        .find(|&s| s >= 200)
}

fn replaces(call_id: &str, to_tag: &str, from_tag: &str, flags: &str) -> String {
    format!("Replaces: {call_id};to-tag={to_tag};from-tag={from_tag}{flags}\r\n")
}

#[test]
fn a_confirmed_dialog_is_replaced_and_ended_with_bye() {
    let (mut c, old, tag) = carol_with_a_call();
    let extra = replaces("consult-1", &tag, "alice-tag", "")
        + "Require: replaces\r\nReferred-By: <sip:alice@10.0.0.9>\r\n";
    c.recv(BOB, &invite(BOB, "bob", "new-1", &extra));
    let mut events = c.events();
    let (new, what) = incoming(&mut events);
    assert_eq!(what, Some(old), "the INVITE names alice's call");
    assert!(
        c.ep.call_is_live(old),
        "nothing happens to it before the answer"
    );
    c.ep.answer(c.now, new, Some(bytes::Bytes::from_static(SDP.as_bytes())))
        .unwrap();
    let out = c.sent();
    let ok = out
        .iter()
        .position(|m| m.status() == Some(200) && m.call_id() == Some("new-1"));
    let bye = out.iter().position(|m| {
        m.method().map(|x| x.as_str()) == Some("BYE") && m.call_id() == Some("consult-1")
    });
    assert!(
        ok.unwrap() < bye.expect("BYE to alice"),
        "200 to bob, then BYE to alice"
    );
    let ends: Vec<_> = c
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::CallState {
                call,
                state: CallState::Terminated { reason },
                ..
            } => Some((call, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(ends, [(old, EndReason::Replaced)]);
}

#[test]
fn no_matching_dialog_is_481() {
    let (mut c, old, tag) = carol_with_a_call();
    for extra in [
        replaces("nope", &tag, "alice-tag", ""),
        replaces("consult-1", "wrong", "alice-tag", ""),
        // The tags the other way round: to-tag is compared with OUR tag.
        replaces("consult-1", "alice-tag", &tag, ""),
    ] {
        c.recv(BOB, &invite(BOB, "bob", "new-2", &extra));
        assert_eq!(answered(&mut c, "new-2"), Some(481), "{extra}");
    }
    assert!(c.ep.call_is_live(old));
}

#[test]
fn early_only_on_a_confirmed_dialog_is_486() {
    let (mut c, old, tag) = carol_with_a_call();
    let extra = replaces("consult-1", &tag, "alice-tag", ";early-only");
    c.recv(BOB, &invite(BOB, "bob", "new-3", &extra));
    assert_eq!(answered(&mut c, "new-3"), Some(486));
    assert!(c.ep.call_is_live(old));
}

#[test]
fn two_replaces_or_replaces_with_join_is_400() {
    let (mut c, old, tag) = carol_with_a_call();
    let one = replaces("consult-1", &tag, "alice-tag", "");
    // Two Replaces do not even parse (a header that may appear once, RFC 3891 §6.1): the
    // malformed request gets its 400 all the same.
    let text = String::from_utf8(invite(BOB, "bob", "new-4", &one).to_bytes().to_vec()).unwrap();
    let twice = text.replacen("Replaces:", &format!("{}Replaces:", one), 1);
    c.now += sipxfer::Duration::from_millis(10);
    c.ep.handle_datagram(
        c.now,
        sipxfer::Transport::Udp,
        BOB.parse().unwrap(),
        c.me,
        twice.into(),
    );
    assert_eq!(answered(&mut c, "new-4"), Some(400));
    let join = format!("{one}Join: consult-1;to-tag={tag};from-tag=alice-tag\r\n");
    c.recv(BOB, &invite(BOB, "bob", "new-5", &join));
    assert_eq!(answered(&mut c, "new-5"), Some(400));
    assert!(c.ep.call_is_live(old));
}

#[test]
fn replaces_in_another_method_is_400() {
    let (mut c, _, tag) = carol_with_a_call();
    let options = msg(format!(
        "OPTIONS sip:carol@10.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {BOB};branch=z9hG4bK-o1\r\n\
         From: <sip:bob@{BOB}>;tag=b\r\nTo: <sip:carol@10.0.0.1>\r\nCall-ID: opt-1\r\n\
         CSeq: 1 OPTIONS\r\n{}Content-Length: 0\r\n\r\n",
        replaces("consult-1", &tag, "alice-tag", "")
    ));
    c.recv(BOB, &options);
    assert_eq!(answered(&mut c, "opt-1"), Some(400));
}

#[test]
fn an_early_dialog_we_did_not_initiate_is_481() {
    let mut c = Manual::new(4, |_| {});
    let inv = invite(ALICE, "alice", "ringing-1", "");
    c.recv(ALICE, &inv);
    let call = incoming(&mut c.events()).0;
    c.ep.ring(c.now, call, 180).unwrap();
    let ringing = c
        .sent()
        .into_iter()
        .find(|m| m.status() == Some(180))
        .unwrap();
    let tag = ringing.to().unwrap().tag().unwrap().to_string();
    let extra = replaces("ringing-1", &tag, "alice-tag", "");
    c.recv(BOB, &invite(BOB, "bob", "new-6", &extra));
    assert_eq!(answered(&mut c, "new-6"), Some(481));
    assert!(
        c.ep.call_is_live(call),
        "the matched dialog is left unchanged"
    );
}

/// Our call to alice, answered provisionally with each `(status, To tag)`: the call and our
/// INVITE.
fn calling_alice(c: &mut Manual, provisionals: &[(u16, &str)]) -> (CallId, Message) {
    let uri = Uri::parse("sip:alice@10.0.0.9:5060").unwrap();
    let ours = c.ep.call(c.now, uri, Default::default()).unwrap();
    let inv = c.sent().remove(0);
    for &(status, tag) in provisionals {
        c.recv(ALICE, &reply(&inv, status, tag, None));
    }
    c.events();
    (ours, inv)
}

/// An early-only `Replaces` naming the early dialog of our INVITE `inv` that alice's To tag
/// `theirs` made, as we see it: to-tag our tag, from-tag alice's.
fn replaces_early(inv: &Message, theirs: &str) -> String {
    let call_id = inv.call_id().unwrap();
    let from_tag = inv.from().unwrap().tag().unwrap();
    replaces(call_id, from_tag, theirs, ";early-only")
}

#[test]
fn our_own_early_dialog_is_replaced_and_cancelled() {
    let mut c = Manual::new(5, |_| {});
    let (ours, inv) = calling_alice(&mut c, &[(180, "alice-early")]);
    let call_id = inv.call_id().unwrap().to_string();
    let extra = replaces_early(&inv, "alice-early");
    c.recv(BOB, &invite(BOB, "bob", "new-7", &extra));
    let (new, what) = incoming(&mut c.events());
    assert_eq!(what, Some(ours));
    c.ep.answer(c.now, new, Some(bytes::Bytes::from_static(SDP.as_bytes())))
        .unwrap();
    let cancel = c
        .sent()
        .into_iter()
        .find(|m| m.method().map(|x| x.as_str()) == Some("CANCEL"))
        .expect("our INVITE is cancelled");
    assert_eq!(cancel.call_id(), Some(call_id.as_str()));
    c.recv(ALICE, &reply(&inv, 487, "alice-early", None));
    let ends: Vec<_> = c
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::CallState {
                call,
                state: CallState::Terminated { reason },
                ..
            } => Some((call, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(ends, [(ours, EndReason::Replaced)]);
}

/// A fork's early dialog other than the first (§13.2.2.4: one per To tag) is ours too: a
/// Replaces naming it matches our INVITE, which is cancelled once the new call is answered.
#[test]
fn an_early_dialog_of_a_second_fork_is_replaced_too() {
    let mut c = Manual::new(5, |_| {});
    let (ours, inv) = calling_alice(&mut c, &[(180, "alice-early"), (183, "alice-fork2")]);
    assert_eq!(c.ep.dialogs(ours).count(), 2, "one early dialog per fork");
    let extra = replaces_early(&inv, "alice-fork2");
    c.recv(BOB, &invite(BOB, "bob", "new-7b", &extra));
    let (new, what) = incoming(&mut c.events());
    assert_eq!(what, Some(ours));
    c.ep.answer(c.now, new, Some(bytes::Bytes::from_static(SDP.as_bytes())))
        .unwrap();
    assert!(
        c.sent()
            .iter()
            .any(|m| m.method().map(|x| x.as_str()) == Some("CANCEL")),
        "our INVITE is cancelled"
    );
    // A tag no fork answered with names nothing of ours.
    let extra = replaces_early(&inv, "alice-fork3");
    c.recv(BOB, &invite(BOB, "bob", "new-7c", &extra));
    assert_eq!(answered(&mut c, "new-7c"), Some(481));
}

#[test]
fn a_dialog_that_has_ended_is_603_for_a_while() {
    let (mut c, old, tag) = carol_with_a_call();
    c.ep.hangup(c.now, old).unwrap();
    let bye = c
        .sent()
        .into_iter()
        .find(|m| m.method().map(|x| x.as_str()) == Some("BYE"))
        .unwrap();
    c.recv(ALICE, &reply(&bye, 200, "alice-tag", None));
    let extra = replaces("consult-1", &tag, "alice-tag", "");
    c.recv(BOB, &invite(BOB, "bob", "new-8", &extra));
    assert_eq!(answered(&mut c, "new-8"), Some(603));
    // 64·T1 later the dialog is forgotten: no match.
    c.wait_until(c.now + sipxfer::Duration::from_secs(33));
    c.recv(BOB, &invite(BOB, "bob", "new-9", &extra));
    assert_eq!(answered(&mut c, "new-9"), Some(481));
}

#[test]
fn refusing_the_replacing_call_leaves_the_old_one_alone() {
    let (mut c, old, tag) = carol_with_a_call();
    c.recv(
        BOB,
        &invite(
            BOB,
            "bob",
            "new-10",
            &replaces("consult-1", &tag, "alice-tag", ""),
        ),
    );
    let (new, _) = incoming(&mut c.events());
    c.ep.reject(c.now, new, 403).unwrap();
    assert_eq!(answered(&mut c, "new-10"), Some(403));
    assert!(c.ep.call_is_live(old));
    assert!(!c
        .sent()
        .iter()
        .any(|m| m.method().map(|x| x.as_str()) == Some("BYE")));
}

#[test]
fn replaces_norefersub_and_tdialog_are_supported_by_default() {
    let c = Manual::new(6, |_| {});
    let tags: Vec<&str> = c.ep.config().supported.iter().map(|t| t.as_str()).collect();
    assert_eq!(tags, ["replaces", "norefersub", "tdialog"]);
}
