//! REFER outside a dialog (RFC 3515 §2.4.2) and `Target-Dialog` (RFC 4538), against a scripted
//! transferor: our endpoint (10.0.0.1) has a call from "alice" (10.0.0.9); alice sends a REFER
//! outside it, naming it with `Target-Dialog`. The REFER creates a dialog of its own, which
//! carries the subscription.

use sipxfer::msg::Message;
use sipxfer::{CallId, Event};
use sipxfer_tests::flows::{parse, Manual};

const ALICE: &str = "10.0.0.9:5060";
const SDP: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";

fn msg(text: String) -> Message {
    parse(&bytes::Bytes::from(text))
}

/// Our endpoint with a confirmed call from alice (Call-ID `orig-1`, alice's tag
/// `alice-tag`): the endpoint, the call and our tag.
fn bob_with_a_call(config: impl FnOnce(&mut sipxfer::Config)) -> (Manual, CallId, String) {
    let mut b = Manual::new(7, config);
    let invite = msg(format!(
        "INVITE sip:bob@10.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {ALICE};branch=z9hG4bK-i1\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@{ALICE}>;tag=alice-tag\r\nTo: <sip:bob@10.0.0.1>\r\n\
         Call-ID: orig-1\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@{ALICE}>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
        SDP.len()
    ));
    b.recv(ALICE, &invite);
    let call = b
        .events()
        .into_iter()
        .find_map(|e| match e {
            Event::IncomingCall { call, .. } => Some(call),
            _ => None,
        })
        .unwrap();
    b.ep.answer(b.now, call, Some(bytes::Bytes::from_static(SDP.as_bytes())))
        .unwrap();
    let ok = b
        .sent()
        .into_iter()
        .find(|m| m.status() == Some(200))
        .unwrap();
    let tag = ok.to().unwrap().tag().unwrap().to_string();
    b.recv(
        ALICE,
        &msg(format!(
            "ACK sip:bob@10.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {ALICE};branch=z9hG4bK-a1\r\n\
             From: <sip:alice@{ALICE}>;tag=alice-tag\r\nTo: <sip:bob@10.0.0.1>;tag={tag}\r\n\
             Call-ID: orig-1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
        )),
    );
    b.events();
    (b, call, tag)
}

/// A REFER outside any dialog from alice, with `extra` headers.
fn refer(call_id: &str, extra: &str) -> Message {
    msg(format!(
        "REFER sip:bob@10.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {ALICE};branch=z9hG4bK-{call_id}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@{ALICE}>;tag=refer-tag\r\nTo: <sip:bob@10.0.0.1>\r\n\
         Call-ID: {call_id}\r\nCSeq: 1 REFER\r\nContact: <sip:alice@{ALICE}>\r\n\
         Refer-To: <sip:carol@10.0.0.3>\r\nReferred-By: <sip:alice@{ALICE}>\r\n{extra}\
         Content-Length: 0\r\n\r\n"
    ))
}

fn status_for(out: &[Message], call_id: &str) -> Option<u16> {
    out.iter()
        .filter(|m| m.call_id() == Some(call_id))
        .find_map(|m| m.status())
}

#[test]
fn a_refer_with_target_dialog_transfers_that_call_in_a_dialog_of_its_own() {
    let (mut b, call, tag) = bob_with_a_call(|_| {});
    // RFC 4538: the tags as alice sees the dialog: hers local, ours remote.
    let td = format!("Target-Dialog: orig-1;local-tag=alice-tag;remote-tag={tag}\r\n");
    b.recv(ALICE, &refer("refer-1", &td));
    let transfer = b
        .events()
        .into_iter()
        .find_map(|e| match e {
            Event::IncomingTransfer {
                transfer, call: c, ..
            } => {
                assert_eq!(c, call, "the REFER transfers the call Target-Dialog names");
                Some(transfer)
            }
            _ => None,
        })
        .expect("IncomingTransfer");
    b.ep.accept_transfer(b.now, transfer, None).unwrap();
    let out = b.sent();
    let accepted = out
        .iter()
        .find(|m| m.status() == Some(202))
        .expect("202 Accepted");
    let our_tag = accepted.to().unwrap().tag().unwrap().to_string();
    // The NOTIFY goes in the REFER's own dialog: its Call-ID, our tag from the 202, alice's
    // From tag, to alice's Contact, without `id` (the dialog's first REFER).
    let notify = out
        .iter()
        .find(|m| m.method().map(|x| x.as_str()) == Some("NOTIFY"))
        .expect("NOTIFY");
    assert_eq!(notify.call_id(), Some("refer-1"));
    assert_eq!(notify.from().unwrap().tag(), Some(our_tag.as_str()));
    assert_eq!(notify.to().unwrap().tag(), Some("refer-tag"));
    assert_eq!(
        notify.request_uri().unwrap().to_string(),
        format!("sip:alice@{ALICE}")
    );
    assert_eq!(notify.event().unwrap().id(), None);
    assert!(out
        .iter()
        .any(|m| m.method().map(|x| x.as_str()) == Some("INVITE")
            && m.request_uri().unwrap().to_string() == "sip:carol@10.0.0.3"));
    // A refresh in that dialog is answered, and followed by a NOTIFY of the current state.
    let n = notify.cseq().unwrap().seq;
    let ok = sipxfer::msg::builder::response(notify, 200, None);
    b.recv(ALICE, &ok);
    b.recv(
        ALICE,
        &msg(format!(
            "SUBSCRIBE sip:bob@10.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {ALICE};branch=z9hG4bK-s1\r\n\
             Max-Forwards: 70\r\nFrom: <sip:alice@{ALICE}>;tag=refer-tag\r\n\
             To: <sip:bob@10.0.0.1>;tag={our_tag}\r\nCall-ID: refer-1\r\nCSeq: 2 SUBSCRIBE\r\n\
             Contact: <sip:alice@{ALICE}>\r\nEvent: refer\r\nExpires: 30\r\nContent-Length: 0\r\n\r\n"
        )),
    );
    let out = b.sent();
    assert_eq!(
        status_for(&out, "refer-1"),
        Some(200),
        "the SUBSCRIBE is answered"
    );
    let again = out
        .iter()
        .find(|m| m.method().map(|x| x.as_str()) == Some("NOTIFY"))
        .expect("a NOTIFY of the current state");
    assert!(again.cseq().unwrap().seq > n);
    assert_eq!(
        again.subscription_state().unwrap().expires(),
        Some(30),
        "shortened as asked"
    );
}

#[test]
fn target_dialog_with_the_tags_swapped_is_matched_too() {
    let (mut b, call, tag) = bob_with_a_call(|_| {});
    let td = format!("Target-Dialog: orig-1;local-tag={tag};remote-tag=alice-tag\r\n");
    b.recv(ALICE, &refer("refer-2", &td));
    assert!(b
        .events()
        .iter()
        .any(|e| matches!(e, Event::IncomingTransfer { call: c, .. } if *c == call)));
}

#[test]
fn target_dialog_naming_no_dialog_is_481() {
    let (mut b, _, tag) = bob_with_a_call(|_| {});
    for td in [
        format!("Target-Dialog: other;local-tag=alice-tag;remote-tag={tag}\r\n"),
        "Target-Dialog: orig-1;local-tag=alice-tag;remote-tag=nope\r\n".to_string(),
    ] {
        b.recv(ALICE, &refer("refer-3", &td));
        assert_eq!(status_for(&b.sent(), "refer-3"), Some(481), "{td}");
    }
    assert!(!b
        .events()
        .iter()
        .any(|e| matches!(e, Event::IncomingTransfer { .. })));
}

#[test]
fn a_refer_outside_any_dialog_is_refused_403_by_default() {
    let (mut b, _, _) = bob_with_a_call(|_| {});
    b.recv(ALICE, &refer("refer-4", ""));
    assert_eq!(status_for(&b.sent(), "refer-4"), Some(403));
    assert!(b.events().is_empty());
}

#[test]
fn or_handed_to_the_application_when_configured() {
    let (mut b, _, _) = bob_with_a_call(|c| c.refer_outside_dialog = true);
    b.recv(ALICE, &refer("refer-5", ""));
    assert_eq!(
        status_for(&b.sent(), "refer-5"),
        None,
        "nothing answered yet"
    );
    let tx = b
        .events()
        .into_iter()
        .find_map(|e| match e {
            Event::Request { tx, request, .. } => {
                assert_eq!(request.method().unwrap().as_str(), "REFER");
                Some(tx)
            }
            _ => None,
        })
        .expect("the REFER goes to the application");
    let r = b.ep.response(tx, 603).unwrap();
    b.ep.respond(b.now, tx, r).unwrap();
    assert_eq!(status_for(&b.sent(), "refer-5"), Some(603));
}

/// The call `Target-Dialog` named ends (alice hangs up after the 202) while the call to the
/// target rings: the subscription lives in the REFER's own dialog, so it goes on — the
/// NOTIFYs of the target's answer still go there, the last one final — and the application
/// hears the outcome.
#[test]
fn the_named_call_ending_leaves_the_subscription_in_its_own_dialog() {
    let (mut b, call, tag) = bob_with_a_call(|_| {});
    let td = format!("Target-Dialog: orig-1;local-tag=alice-tag;remote-tag={tag}\r\n");
    b.recv(ALICE, &refer("refer-2", &td));
    let transfer = b
        .events()
        .into_iter()
        .find_map(|e| match e {
            Event::IncomingTransfer { transfer, .. } => Some(transfer),
            _ => None,
        })
        .expect("IncomingTransfer");
    b.ep.accept_transfer(b.now, transfer, None).unwrap();
    let out = b.sent();
    let invite = out
        .iter()
        .find(|m| m.method().map(|x| x.as_str()) == Some("INVITE"))
        .expect("the INVITE to carol")
        .clone();
    let trying = out
        .iter()
        .find(|m| m.method().map(|x| x.as_str()) == Some("NOTIFY"))
        .expect("NOTIFY 100");
    b.recv(ALICE, &sipxfer::msg::builder::response(trying, 200, None));
    // Alice hangs up the original call.
    b.recv(
        ALICE,
        &msg(format!(
            "BYE sip:bob@10.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {ALICE};branch=z9hG4bK-b1\r\n\
             Max-Forwards: 70\r\nFrom: <sip:alice@{ALICE}>;tag=alice-tag\r\n\
             To: <sip:bob@10.0.0.1>;tag={tag}\r\nCall-ID: orig-1\r\nCSeq: 2 BYE\r\n\
             Content-Length: 0\r\n\r\n"
        )),
    );
    assert_eq!(status_for(&b.sent(), "orig-1"), Some(200));
    assert!(!b.ep.call_is_live(call));
    b.events();
    // Carol answers: the final NOTIFY goes in the REFER's dialog.
    let mut ok = sipxfer::msg::builder::response(&invite, 200, Some("carol-tag"));
    ok.headers
        .push(sipxfer::msg::Header::Contact(sipxfer::msg::Contact::Addrs(
            [sipxfer::msg::NameAddr::new(
                sipxfer::msg::Uri::parse("sip:carol@10.0.0.3:5060").unwrap(),
            )]
            .into_iter()
            .collect(),
        )));
    b.recv("10.0.0.3:5060", &ok);
    let out = b.sent();
    let last = out
        .iter()
        .find(|m| m.method().map(|x| x.as_str()) == Some("NOTIFY"))
        .expect("the final NOTIFY");
    assert_eq!(last.call_id(), Some("refer-2"));
    assert_eq!(
        last.subscription_state().unwrap().state.as_str(),
        "terminated"
    );
    assert_eq!(String::from_utf8_lossy(&last.body), "SIP/2.0 200 OK\r\n");
    assert!(b.events().iter().any(|e| matches!(
        e,
        Event::TransferOutcome { transfer: t, outcome: sipxfer::TransferOutcome::Succeeded }
            if *t == transfer
    )));
    b.recv(ALICE, &sipxfer::msg::builder::response(last, 200, None));
    assert_eq!(b.ep.stats().subscriptions, 0);
}
